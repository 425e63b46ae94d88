/* The conversation browser of a moot run page.
 *
 * One script for both pages: the static report embeds every conversation (#moot-data, each one packed:
 * moot.report.packing),
 * the viewer (`moot view`) serves them from /api/. Both sources answer the same three questions:
 * the filter options, a page of the filtered list, and one conversation.
 * Messages are drawn from their role's output schema (config.protocol, see moot.report.protocol_view):
 * enum fields as badges with a colour per value, booleans as chips, numbers with their field name,
 * free text as the body, lists and nested objects as blocks. Speakers stand in the steps of the round
 * graph, with arrows only between a step and the one that follows it.
 * All text is inserted as text nodes, never as HTML.
 */
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('moot-config').textContent);
  var protocol = config.protocol || { readable: false, roles: {}, agents: {}, outcome_fields: [], marked_fields: [], compared: [] };
  var PAGE_SIZE = 50;
  var AGENT_COLORS = ['#3b5bdb', '#e8590c', '#2f9e44', '#ae3ec9', '#1098ad', '#f08c00', '#d6336c', '#5c940d'];
  /* Enum values take these colours by their place in the schema's enum (c0 for the first value, ...). */
  var VALUE_COLOURS = 10;
  var FINAL_PREFIX = 'final.';

  function el(tag, props) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      var value = props[key];
      if (value === null || value === undefined || value === false) { return; }
      if (key === 'class') { node.className = value; }
      else if (key === 'text') { node.textContent = String(value); }
      else if (key === 'style') { node.style.cssText = value; }
      else if (key.slice(0, 2) === 'on') { node.addEventListener(key.slice(2), value); }
      else { node.setAttribute(key, value === true ? '' : value); }
    });
    append(node, Array.prototype.slice.call(arguments, 2));
    return node;
  }

  function append(node, children) {
    children.forEach(function (child) {
      if (child === null || child === undefined || child === false) { return; }
      if (Array.isArray(child)) { append(node, child); return; }
      node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
    });
  }


  function number(n) { return Number(n).toLocaleString('en-US'); }
  function plural(n, word) { return number(n) + ' ' + word + (n === 1 ? '' : 's'); }
  function orderKey(order) { return order.join(' → '); }
  function hasErrors(s) { return s.errors > 0 || s.status === 'failed'; }
  function latency(seconds) { return seconds < 1 ? Math.round(seconds * 1000) + ' ms' : seconds.toFixed(2) + ' s'; }
  function fieldName(name) { return String(name).replace(/_/g, ' '); }

  /* ---- the protocol: speaking steps, roles and fields ---- */

  /* The speakers of a round in steps: the speakers of one step speak in parallel, each step after the one before. */
  function stepsOf(order) {
    if (protocol.turns === 'synchronous') { return order.length ? [order.slice()] : []; }
    if (protocol.turns === 'round_robin') { return order.map(function (agent) { return [agent]; }); }
    if (protocol.turns === 'custom' && protocol.custom_steps.length) { return protocol.custom_steps; }
    return order.length ? [order.slice()] : [];  // unknown: nobody is drawn as following anybody
  }

  /* The order as the round graph has it: `a → b` where b follows a, `a · b` where they speak in parallel. */
  function orderLabel(order) {
    return stepsOf(order).map(function (step) { return step.join(' · '); }).join(' → ');
  }

  function roleOf(role) { return protocol.roles[role] || null; }

  /* The fields of a reply: its role's schema, else (no readable protocol) what the reply holds, none of it an enum. */
  function fieldsOf(role, parsed) {
    var known = roleOf(role);
    if (known && known.fields) { return known.fields; }
    if (!parsed || typeof parsed !== 'object') { return []; }
    return Object.keys(parsed).map(function (k) { return guessedField(k, parsed[k]); });
  }

  function guessedField(name, value) {
    if (typeof value === 'boolean') { return { name: name, kind: 'boolean' }; }
    if (typeof value === 'number') { return { name: name, kind: 'number' }; }
    if (Array.isArray(value)) { return { name: name, kind: 'list', items: guessedField(name, value[0]) }; }
    if (value && typeof value === 'object') {
      return { name: name, kind: 'object', fields: Object.keys(value).map(function (k) { return guessedField(k, value[k]); }) };
    }
    return { name: name, kind: 'text' };
  }

  function isEmpty(value) {
    return value === null || value === undefined || value === '' || (Array.isArray(value) && !value.length);
  }

  function valueText(value) {
    if (typeof value === 'boolean') { return value ? 'true' : 'false'; }
    return typeof value === 'string' ? value : JSON.stringify(value);
  }

  /* The colour class of an enum value: its place among the field's values. */
  function colourClass(field, value) {
    var index = (field.values || []).map(String).indexOf(String(value));
    return index < 0 ? 'c-other' : 'c' + (index % VALUE_COLOURS);
  }

  function enumBadge(field, value) {
    return el('span', { 'class': 'badge enum ' + colourClass(field, value), 'data-field': field.name, 'data-kind': 'enum', title: fieldName(field.name), text: valueText(value) });
  }

  function boolChip(field, value) {
    return el('span', { 'class': 'badge bool ' + (value ? 'on' : 'off'), 'data-field': field.name, 'data-kind': 'boolean' },
      fieldName(field.name) + ': ' + (value ? 'yes' : 'no'));
  }

  function numberView(field, value) {
    return el('span', { 'class': 'num', 'data-field': field.name },
      el('span', { 'class': 'fname', text: fieldName(field.name) }), ' ', el('b', { text: typeof value === 'number' ? number(value) : valueText(value) }));
  }

  /* A list or nested object, as a block under the head of the message. */
  function blockView(field, value, unlabelled) {
    var label = unlabelled ? null : el('span', { 'class': 'fname', text: fieldName(field.name) });
    if (field.kind === 'list') {
      var items = Array.isArray(value) ? value : [value];
      var item = field.items || { name: field.name, kind: 'text' };
      if (item.kind === 'enum' || item.kind === 'boolean' || item.kind === 'number') {
        return el('div', { 'class': 'values', 'data-field': field.name, title: fieldName(field.name) }, label,
          items.length ? items.map(function (v) { return el('span', { 'class': 'chip', text: valueText(v) }); }) : el('span', { 'class': 'count', text: 'none' }));
      }
      return el('div', { 'class': 'block', 'data-field': field.name }, label,
        items.length ? el('ol', { 'class': 'items' }, items.map(function (v) {
          return el('li', {}, item.kind === 'object' ? nestedView(item, v) : valueText(v));
        })) : el('span', { 'class': 'count', text: ' none' }));
    }
    return el('div', { 'class': 'block', 'data-field': field.name }, label, nestedView(field, value));
  }

  /* A nested object: its fields in a small table, each drawn by its kind. */
  function nestedView(field, value) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) { return el('span', { text: valueText(value) }); }
    var fields = (field.fields && field.fields.length) ? field.fields : Object.keys(value).map(function (k) { return guessedField(k, value[k]); });
    return el('table', { 'class': 'kv nested' }, fields.filter(function (f) { return value[f.name] !== undefined && value[f.name] !== null; }).map(function (f) {
      var v = value[f.name], cell;
      if (f.kind === 'enum') { cell = enumBadge(f, v); }
      else if (f.kind === 'boolean') { cell = boolChip(f, v); }
      else if (f.kind === 'list' || f.kind === 'object') { cell = blockView(f, v, true); }  // the row names it
      else { cell = valueText(v); }
      return el('tr', {}, el('th', { text: fieldName(f.name) }), el('td', {}, cell));
    }));
  }

  /* A parsed reply drawn from its schema: {head: badges, chips and numbers; body: text; blocks: lists and objects}. */
  function replyParts(role, parsed, content) {
    var known = roleOf(role);
    var textMode = known && known.output_mode === 'text';
    var parts = { head: [], body: [], blocks: [] };
    if (!parsed || typeof parsed !== 'object') {
      if (content) { parts.body.push(el('div', { 'class': 'text', text: content })); }
      return parts;
    }
    var fields = fieldsOf(role, parsed);
    var named = {};
    fields.forEach(function (f) { named[f.name] = true; });
    var texts = fields.filter(function (f) { return f.kind === 'text' && typeof parsed[f.name] === 'string' && parsed[f.name] !== ''; });
    fields.forEach(function (f) {
      var value = parsed[f.name];
      if (value === undefined || value === null) { return; }
      if (f.kind === 'enum') { parts.head.push(enumBadge(f, value)); }
      else if (f.kind === 'boolean') { parts.head.push(boolChip(f, value)); }
      else if (f.kind === 'number') { parts.head.push(numberView(f, value)); }
      else if (f.kind === 'list' || f.kind === 'object') { parts.blocks.push(blockView(f, value)); }
    });
    if (textMode) {
      parts.body.push(el('div', { 'class': 'text', text: content }));
    } else {
      texts.forEach(function (f) {
        parts.body.push(el('div', { 'class': 'text', 'data-field': f.name },
          texts.length > 1 ? el('span', { 'class': 'fname', text: fieldName(f.name) + ' ' }) : null, parsed[f.name]));
      });
    }
    var extra = Object.keys(parsed).filter(function (k) { return !named[k] && !isEmpty(parsed[k]); });
    if (extra.length) {
      parts.blocks.push(el('div', { 'class': 'extra', title: 'fields outside the output schema' }, extra.map(function (k) {
        return el('span', { 'class': 'extra-field' }, el('span', { 'class': 'fname', text: fieldName(k) + ' ' }), valueText(parsed[k]));
      })));
    }
    return parts;
  }

  function badge(label, extra) {
    return el('span', { 'class': 'badge' + (extra ? ' ' + extra : ''), text: label });
  }

  /* A conversation's outcome: the final value of the protocol's primary field, coloured as that field's values. */
  function outcomeBadge(s) {
    if (s.status === 'failed') { return badge('failed', 'v-failed'); }
    if (!s.outcome) { return el('span', { 'class': 'badge muted', text: s.status === 'running' ? 'running' : '—' }); }
    var field = primaryField();
    if (s.outcome === 'no majority' || s.outcome === 'unparsed') { return badge(s.outcome, 'v-no-majority'); }
    if (!field) { return badge(s.outcome); }
    var title = 'final ' + fieldName(field.name);
    if (field.kind === 'boolean') {
      return el('span', { 'class': 'badge outcome bool ' + (s.outcome === 'true' ? 'on' : 'off'), title: title, text: fieldName(field.name) + ': ' + (s.outcome === 'true' ? 'yes' : 'no') });
    }
    if (field.kind === 'number') { return el('span', { 'class': 'badge outcome', title: title, text: fieldName(field.name) + ' ' + s.outcome }); }
    return el('span', { 'class': 'badge outcome ' + colourClass(field, s.outcome), title: title, text: s.outcome });
  }

  function primaryField() {
    var name = protocol.primary_field;
    return protocol.outcome_fields.filter(function (f) { return f.name === name; })[0] || null;
  }

  /* ---- filtering (mirror of moot.report.query.ListQuery.matches) ---- */

  function matches(s, query, search, scenarioText) {
    if (query.scenario && s.scenario !== query.scenario) { return false; }
    if (query.order && orderKey(s.order) !== query.order) { return false; }
    if (query.outcome && (s.outcome || '-') !== query.outcome) { return false; }
    if (query.stop && s.stop !== query.stop) { return false; }
    var finals = s.finals || {};
    var failsFinal = Object.keys(query).some(function (k) {
      return k.indexOf(FINAL_PREFIX) === 0 && query[k] !== '' && (finals[k.slice(FINAL_PREFIX.length)] || '-') !== query[k];
    });
    if (failsFinal) { return false; }
    if (query.consensus && s.consensus !== (query.consensus === 'yes')) { return false; }
    if (query.rounds !== '' && s.rounds !== Number(query.rounds)) { return false; }
    if (query.errors && hasErrors(s) !== (query.errors === 'yes')) { return false; }
    var words = query.q.toLowerCase().split(/\s+/).filter(Boolean);
    return words.every(function (w) { return search.indexOf(w) >= 0 || scenarioText.indexOf(w) >= 0; });
  }

  /* ---- data sources ---- */

  /* A packed block (moot.report.packing): JSON, gzip-compressed, in base64; opened by the browser's own
     DecompressionStream, so a conversation is unpacked only when it is shown. */
  function unpack(text) {
    var binary = atob(text);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Response(stream).text().then(JSON.parse);
  }

  function embeddedSource(data) {
    var facets = data.facets;
    var lookups = null;
    function openLookups() {
      if (!lookups) { lookups = unpack(data.lookups); }
      return lookups;
    }
    return {
      facets: function () { return Promise.resolve(facets); },
      list: function (query, offset, limit) {
        return openLookups().then(function (found) {
          var matched = data.summaries.filter(function (s) {
            return matches(s, query, found.search[s.id] || '', found.scenarios[s.scenario] || '');
          });
          return { total: data.summaries.length, matched: matched.length, offset: offset, limit: limit, items: matched.slice(offset, offset + limit) };
        });
      },
      conversation: function (id) {
        var packed = data.details[id];
        return packed ? unpack(packed) : Promise.resolve(null);
      }
    };
  }

  function apiSource() {
    function get(url) {
      return fetch(url).then(function (response) {
        if (response.status === 404) { return null; }
        return response.json().then(function (body) {
          if (!response.ok) { throw new Error(body.error || response.statusText); }
          return body;
        });
      });
    }
    return {
      facets: function () { return get('api/facets'); },
      list: function (query, offset, limit) {
        var params = new URLSearchParams();
        Object.keys(query).forEach(function (k) { if (query[k] !== '') { params.set(k, query[k]); } });
        params.set('offset', offset);
        params.set('limit', limit);
        return get('api/conversations?' + params.toString());
      },
      conversation: function (id) { return get('api/conversations/' + encodeURIComponent(id)); }
    };
  }

  var source = config.source === 'api' ? apiSource() : embeddedSource(JSON.parse(document.getElementById('moot-data').textContent));

  /* ---- state and elements ---- */

  var state = { query: { q: '', scenario: '', order: '', outcome: '', stop: '', consensus: '', rounds: '', errors: '' }, offset: 0, page: null, selected: null, listRequest: 0 };
  var $ = function (id) { return document.getElementById(id); };
  var list = $('conv-list'), detail = $('detail'), shown = $('shown'), drawer = $('inspector'), backdrop = $('backdrop');

  /* ---- tabs ---- */

  function showTab(name) {
    document.querySelectorAll('[data-tab]').forEach(function (button) {
      button.setAttribute('aria-selected', button.getAttribute('data-tab') === name ? 'true' : 'false');
    });
    document.querySelectorAll('[data-panel]').forEach(function (panel) {
      panel.hidden = panel.getAttribute('data-panel') !== name;
    });
  }

  document.querySelectorAll('[data-tab]').forEach(function (button) {
    button.addEventListener('click', function () {
      var name = button.getAttribute('data-tab');
      showTab(name);
      history.replaceState(null, '', name === 'conversations' && state.selected ? '#c=' + encodeURIComponent(state.selected) : '#' + name);
    });
  });


  /* ---- filters, built from the protocol and the facets of the run ---- */

  function yesNo(yes, no) { return function (f) { return [f[0], (f[0] === 'yes' ? yes : no) + ' (' + f[1] + ')']; }; }

  function finalLabel(field) {
    return function (f) {
      var text = f[0] === '-' ? 'none' : (field && field.kind === 'boolean' ? fieldName(field.name) + ': ' + (f[0] === 'true' ? 'yes' : f[0] === 'false' ? 'no' : f[0]) : f[0]);
      return [f[0], text + ' (' + f[1] + ')'];
    };
  }

  /* The filters of this run: [query key, element id, label of "any", options, label of an option]. */
  function filterDefinitions(facets) {
    var primary = primaryField();
    var defs = [
      ['scenario', 'f-scenario', 'any scenario', facets.scenarios, function (f) { return [f[0], (f[1] ? f[1] + ' · ' + f[0] : f[0]) + ' (' + f[2] + ')']; }],
      ['order', 'f-order', 'any order', facets.orders, function (f) { return [f[0], orderLabel(f[0].split(' → ')) + ' (' + f[1] + ')']; }]
    ];
    if (primary || !protocol.readable) {
      defs.push(['outcome', 'f-outcome', primary ? 'any final ' + fieldName(primary.name) : 'any outcome', facets.outcomes, primary ? finalLabel(primary) : function (f) {
        return [f[0], (f[0] === '-' ? 'no outcome' : f[0]) + ' (' + f[1] + ')'];
      }]);
    }
    (facets.finals || []).forEach(function (pair) {
      if (primary && pair[0] === primary.name) { return; }
      var field = protocol.outcome_fields.filter(function (f) { return f.name === pair[0]; })[0];
      defs.push([FINAL_PREFIX + pair[0], 'f-final-' + pair[0], 'any final ' + fieldName(pair[0]), pair[1], finalLabel(field)]);
    });
    defs.push(['stop', 'f-stop', 'any stop reason', facets.stops || [], function (f) { return [f[0], f[0] + ' (' + f[1] + ')']; }]);
    if (facets.consensus) { defs.push(['consensus', 'f-consensus', 'consensus or not', facets.consensus, yesNo('consensus', 'no consensus')]); }
    defs.push(['rounds', 'f-rounds', 'any rounds', facets.rounds, function (f) { return [String(f[0]), plural(f[0], 'round') + ' (' + f[1] + ')']; }]);
    defs.push(['errors', 'f-errors', 'errors or not', facets.errors, yesNo('with errors', 'without errors')]);
    return defs;
  }

  function fillFilters(facets) {
    var slots = $('filter-slots');
    slots.textContent = '';
    filterDefinitions(facets).forEach(function (def) {
      var key = def[0];
      if (!(key in state.query)) { state.query[key] = ''; }
      var select = el('select', { id: def[1], 'data-filter': key, 'aria-label': def[2].replace(/^any /, '') },
        el('option', { value: '', text: def[2] }),
        def[3].map(function (facet) { var pair = def[4](facet); return el('option', { value: pair[0], text: pair[1] }); }));
      select.value = state.query[key];
      select.addEventListener('change', function (event) {
        state.query[key] = event.target.value;
        event.target.classList.toggle('active', event.target.value !== '');
        state.offset = 0;
        loadList();
      });
      slots.appendChild(select);
    });
  }

  var searchTimer = null;
  $('search').addEventListener('input', function (event) {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () {
      state.query.q = event.target.value;
      state.offset = 0;
      loadList();
    }, config.source === 'api' ? 250 : 120);
  });

  $('clear').addEventListener('click', function () {
    Object.keys(state.query).forEach(function (k) { state.query[k] = ''; });
    $('search').value = '';
    $('filter-slots').querySelectorAll('select').forEach(function (s) { s.value = ''; s.classList.remove('active'); });
    state.offset = 0;
    loadList();
  });

  $('prev').addEventListener('click', function () { state.offset = Math.max(0, state.offset - PAGE_SIZE); loadList(); });
  $('next').addEventListener('click', function () { state.offset += PAGE_SIZE; loadList(); });

  /* ---- the list ---- */

  function loadList() {
    var request = state.listRequest += 1;
    shown.textContent = 'loading…';
    return source.list(state.query, state.offset, PAGE_SIZE).then(function (page) {
      if (request === state.listRequest) { renderList(page); }
    }).catch(function (error) {
      shown.textContent = 'could not load the list: ' + error.message;
    });
  }

  function renderList(page) {
    state.page = page;
    var filtered = page.matched !== page.total;
    shown.textContent = filtered ? number(page.matched) + ' of ' + plural(page.total, 'conversation') + ' match' : plural(page.total, 'conversation');
    list.textContent = '';
    page.items.forEach(function (s) {
      var extras = [];
      if (s.consensus) { extras.push(el('span', { text: 'consensus' })); }
      if (hasErrors(s)) { extras.push(el('span', { 'class': 'warn', text: s.status === 'failed' ? 'failed' : plural(s.errors, 'error') })); }
      list.appendChild(el('li', {
        'class': 'conv' + (s.id === state.selected ? ' selected' : ''), 'data-id': s.id, tabindex: '0',
        onclick: function () { openConversation(s.id); },
        onkeydown: function (event) { if (event.key === 'Enter') { openConversation(s.id); } }
      },
        el('div', { 'class': 'line1' }, el('span', { 'class': 'title', title: s.title || s.scenario, text: s.title || s.scenario }), outcomeBadge(s)),
        el('div', { 'class': 'line2' },
          el('span', { text: s.scenario }), '·', el('span', { text: orderLabel(s.order) }), '·', el('span', { text: plural(s.rounds, 'round') }),
          extras.length ? '·' : null, extras)
      ));
    });
    if (!page.items.length) {
      list.appendChild(el('li', { 'class': 'empty', text: page.total ? 'No conversation matches these filters.' : 'This run has no conversations yet.' }));
    }
    var end = page.offset + page.items.length;
    $('page-label').textContent = page.matched > page.items.length ? number(page.offset + 1) + '–' + number(end) : '';
    $('pager').hidden = page.matched <= page.limit && page.offset === 0;
    $('prev').disabled = page.offset === 0;
    $('next').disabled = end >= page.matched;
  }

  function moveSelection(step) {
    if (!state.page || !state.page.items.length) { return; }
    var ids = state.page.items.map(function (s) { return s.id; });
    var index = ids.indexOf(state.selected);
    var next = index < 0 ? 0 : Math.min(ids.length - 1, Math.max(0, index + step));
    openConversation(ids[next]);
  }


  /* ---- one conversation ---- */

  function openConversation(id) {
    state.selected = id;
    list.querySelectorAll('.conv').forEach(function (item) { item.classList.toggle('selected', item.getAttribute('data-id') === id); });
    var current = list.querySelector('.conv.selected');
    if (current && current.scrollIntoView) { current.scrollIntoView({ block: 'nearest' }); }
    history.replaceState(null, '', '#c=' + encodeURIComponent(id));
    detail.textContent = '';
    detail.appendChild(el('div', { 'class': 'empty', text: 'loading…' }));
    return source.conversation(id).then(function (conversation) {
      if (state.selected !== id) { return; }
      detail.textContent = '';
      detail.appendChild(conversation ? renderConversation(conversation) : el('div', { 'class': 'empty', text: 'No conversation ' + id + ' in this run.' }));
    }).catch(function (error) {
      detail.textContent = '';
      detail.appendChild(el('div', { 'class': 'empty', text: 'could not load the conversation: ' + error.message }));
    });
  }

  function agentColor(conversation, agent) {
    var index = conversation.order.indexOf(agent);
    return index < 0 ? '#868e96' : AGENT_COLORS[index % AGENT_COLORS.length];
  }

  function renderConversation(c) {
    var scenario = c.scenario_detail || {};
    var previous = {};
    var badges = [outcomeBadge(c)];
    var withConsensus = protocol.readable ? protocol.consensus_rule : c.consensus;
    if (c.consensus) { badges.push(el('span', { 'class': 'badge ok', text: 'consensus' })); }
    else if (withConsensus && c.status === 'completed') { badges.push(el('span', { 'class': 'badge muted', text: 'no consensus' })); }
    badges.push(el('span', { 'class': 'badge muted', text: plural(c.rounds, 'round') }));
    stepsOf(c.order).forEach(function (step, index) {
      if (index) { badges.push(el('span', { 'class': 'order-arrow', text: '→' })); }
      step.forEach(function (agent) {
        badges.push(el('span', { 'class': 'chip', style: 'border-left: 3px solid ' + agentColor(c, agent), text: agent }));
      });
    });
    var stop = c.status === 'running'
      ? el('div', { 'class': 'stop-line' }, 'Still running: ', plural(c.rounds, 'round'), ' so far.')
      : el('div', { 'class': 'stop-line' }, el('b', { text: c.status === 'failed' ? 'Failed' : 'Stopped' }), ' after ', plural(c.rounds, 'round'), ': ', c.reason);
    return el('article', { 'class': 'conversation', 'data-id': c.id },
      el('h3', { text: c.title || c.scenario }),
      el('div', { 'class': 'meta' }, 'scenario ', el('code', { text: c.scenario }), ' · conversation ', el('code', { text: c.id }),
        ' · repeat ' + c.repeat + ' · seed ' + c.seed + ' · ' + c.protocol),
      el('div', { 'class': 'badges' }, badges),
      renderScenario(scenario),
      c.error_messages.length ? el('div', { 'class': 'errors' }, c.error_messages.map(function (m) { return el('div', { text: m }); })) : null,
      (c.resumed_after || []).map(function (kept) {
        return el('div', { 'class': 'stop-line resumed', text: 'Interrupted and resumed: ' + (kept ? 'rounds 1–' + kept + ' kept, the conversation went on from round ' + (kept + 1) : 'started again from round 1') + '.' });
      }),
      c.rounds_detail.map(function (r) { return renderRound(c, r, previous); }),
      stop
    );
  }

  function renderScenario(scenario) {
    var metadata = scenario.metadata || {};
    var keys = Object.keys(metadata);
    var short = keys.filter(function (k) {
      var v = metadata[k];
      return (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') && String(v).length <= 32 && !/(^|_)id$/.test(k);
    }).slice(0, 8);
    if (!scenario.text && !keys.length) { return null; }
    return el('div', {},
      short.length ? el('div', { 'class': 'badges' }, short.map(function (k) {
        return el('span', { 'class': 'chip meta-chip' }, el('span', { 'class': 'count', text: k.replace(/_/g, ' ') + ' ' }), String(metadata[k]));
      })) : null,
      el('details', { 'class': 'scenario-text' }, el('summary', { text: 'Scenario' + (keys.length ? ' text and metadata' : ' text') }),
        scenario.text ? el('p', { text: scenario.text }) : null,
        keys.length ? el('table', { 'class': 'kv scenario-meta' }, keys.map(function (k) {
          var v = metadata[k];
          return el('tr', {}, el('th', { text: k }), el('td', { text: typeof v === 'string' ? v : JSON.stringify(v) }));
        })) : null));
  }


  /* The round's messages in the steps of the round graph: a step's speakers side by side (wrapping into rows),
   * an arrow before each step that follows another; messages of agents outside the steps come last, side by side. */
  function renderRound(c, r, previous) {
    var byAgent = {};
    r.messages.forEach(function (m) { byAgent[m.agent] = m; });
    var placed = {};
    var groups = [];
    stepsOf(c.order).forEach(function (step) {
      var messages = step.filter(function (agent) { return byAgent[agent]; }).map(function (agent) { placed[agent] = true; return byAgent[agent]; });
      if (messages.length) { groups.push(messages); }
    });
    var rest = r.messages.filter(function (m) { return !placed[m.agent]; });
    if (rest.length) { groups.push(rest); }
    var steps = groups.map(function (messages, index) {
      var before = index ? groups[index - 1].map(function (m) { return m.agent; }).join(', ') : '';
      // The arrow stands at the head of the step that follows, so that it wraps with it.
      return el('div', { 'class': 'step-group', style: '--k: ' + messages.length },
        index ? el('div', { 'class': 'arrow', 'aria-hidden': 'true', title: 'after ' + before, 'data-after': before }, '→') : null,
        el('div', { 'class': 'step', 'data-agents': messages.map(function (m) { return m.agent; }).join(' ') },
          messages.map(function (m) { return renderMessage(c, r, m, previous); })));
    });
    return el('section', { 'class': 'round', 'data-round': r.round },
      el('div', { 'class': 'round-head' }, el('h4', { text: 'Round ' + r.round }), el('div', { 'class': 'rule' })),
      el('div', { 'class': 'steps' }, steps),
      r.decisions.map(function (d) { return renderDecision(c, r, d); })
    );
  }

  function callStats(calls) {
    if (!calls.length) { return ''; }
    var tin = 0, tout = 0, seconds = 0, hits = 0, retries = 0;
    calls.forEach(function (call) { tin += call.tokens_in; tout += call.tokens_out; seconds += call.latency_s; hits += call.cache_hit ? 1 : 0; retries += call.retries; });
    var parts = [tin + '→' + tout + ' tokens', latency(seconds)];
    if (calls.length > 1) { parts.push(calls.length + ' asks'); }
    if (hits) { parts.push('cached'); }
    if (retries) { parts.push(plural(retries, 'retry').replace('retrys', 'retries')); }
    return parts.join(' · ');
  }


  /* Markers of the followed fields (see ProtocolView.marked_fields) whose value changed since the agent's last reply. */
  function changeMarkers(m, previous) {
    var parsed = m.parsed;
    if (!parsed || typeof parsed !== 'object') { return []; }
    var mine = previous[m.agent] = previous[m.agent] || {};
    var markers = [];
    protocol.marked_fields.forEach(function (name) {
      if (!(name in parsed) || parsed[name] === null) { return; }
      var now = valueText(parsed[name]);
      if (name in mine && mine[name] !== now) {
        markers.push(el('span', { 'class': 'changed', 'data-field': name, text: fieldName(name) + ' was ' + mine[name] }));
      }
      mine[name] = now;
    });
    return markers;
  }

  function renderJudgement(j) {
    var parts = replyParts(j.role, j.parsed, j.content);
    return el('div', { 'class': 'judgement', 'data-agent': j.agent, 'data-about': j.about },
      el('span', { 'class': 'role', text: j.agent + ':' }), parts.head,
      j.parse_error ? el('span', { 'class': 'badge v-unparsed', title: j.parse_error, text: 'unparsed' }) : null,
      parts.blocks, parts.body);
  }

  function renderMessage(c, r, m, previous) {
    var parts = m.kind === 'failed' || m.parse_error ? { head: [], body: [], blocks: [] } : replyParts(m.role, m.parsed, m.content);
    var raw = m.kind === 'failed' ? (m.error || 'the turn failed') : (m.parse_error ? m.content : null);
    return el('div', { 'class': 'msg ' + m.kind, 'data-id': m.id, 'data-agent': m.agent, style: '--agent: ' + agentColor(c, m.agent) },
      el('div', { 'class': 'head' },
        el('span', { 'class': 'who', text: m.agent }), el('span', { 'class': 'role', text: m.role }),
        parts.head,
        m.parse_error ? el('span', { 'class': 'badge v-unparsed', title: m.parse_error, text: 'unparsed' }) : null,
        m.kind === 'failed' ? badge('failed', 'v-failed') : null,
        changeMarkers(m, previous)),
      raw !== null ? el('div', { 'class': 'text raw', text: raw }) : parts.body,
      parts.blocks,
      m.judgements.map(renderJudgement),
      el('div', { 'class': 'foot' },
        el('span', { 'class': 'stats', text: callStats(m.calls) }),
        el('button', { type: 'button', 'class': 'inspect-btn', onclick: function () { openInspector(c, r, m); } }, 'Inspect'))
    );
  }

  function renderDecision(c, r, d) {
    var parts = d.parsed ? replyParts(d.role, d.parsed, d.content) : { head: [], body: [el('div', { 'class': 'text raw', text: d.content })], blocks: [] };
    return el('div', { 'class': 'decision', 'data-agent': d.agent, 'data-round': r.round },
      el('div', { 'class': 'head' }, el('b', { text: d.agent }), el('span', { 'class': 'role', text: d.role }), parts.head,
        d.parsed ? null : el('span', { 'class': 'badge v-unparsed', text: 'unparsed' })),
      parts.body, parts.blocks,
      el('div', {}, el('button', { type: 'button', 'class': 'inspect-btn', onclick: function () { openInspector(c, r, d); } }, 'Inspect')));
  }

  /* ---- inspector ---- */

  function kv(name, value) { return el('div', {}, el('span', { text: name }), el('b', { text: value })); }

  function renderCall(call, index, count, what) {
    var params = Object.keys(call.params || {}).filter(function (k) { return call.params[k] !== null; });
    return el('div', { 'class': 'call' },
      el('div', { 'class': 'title' }, what + (count > 1 ? ' ' + (index + 1) + ' of ' + count : ''),
        call.attempt ? el('span', { 'class': 'badge v-ESH', text: 're-ask ' + call.attempt }) : null,
        call.cache_hit ? el('span', { 'class': 'badge ok', text: 'cache hit' }) : null,
        call.error ? el('span', { 'class': 'badge no', text: 'failed' }) : null),
      el('div', { 'class': 'kvgrid' },
        kv('model', call.model), kv('tokens in', call.tokens_in), kv('tokens out', call.tokens_out), kv('latency', latency(call.latency_s)),
        kv('cache hit', call.cache_hit ? 'yes' : 'no'), kv('retries', call.retries), kv('attempt', call.attempt), kv('finish', call.finish_reason || '—'),
        params.map(function (k) { var v = call.params[k]; return kv(k, typeof v === 'object' ? JSON.stringify(v) : v); })),
      el('h5', { text: 'Prompt · ' + plural(call.messages.length, 'message') }),
      el('div', { 'class': 'prompt' }, call.messages.map(function (pm) {
        return el('div', { 'class': 'prompt-msg ' + pm.role }, el('div', { 'class': 'prole', text: pm.role }), el('pre', { text: pm.content }));
      })),
      el('h5', { text: 'Raw reply' }),
      el('pre', { 'class': 'raw', text: call.raw === null ? '(no reply)' : call.raw }),
      call.parse_error ? [el('h5', { text: 'Parse error' }), el('pre', { 'class': 'error', text: call.parse_error })] : null,
      call.error ? [el('h5', { text: 'Error' }), el('pre', { 'class': 'error', text: call.error })] : null
    );
  }

  function openInspector(c, r, entry) {
    var title = entry.agent + ' · round ' + r.round + (entry.kind === 'decision' ? ' · decision' : '');
    var judgements = entry.judgements || [];
    drawer.textContent = '';
    drawer.appendChild(el('header', {},
      el('div', {}, el('h3', { text: title }), el('div', { 'class': 'count', text: c.title || c.scenario })),
      el('button', { type: 'button', 'class': 'close', 'aria-label': 'close', onclick: closeInspector }, '×')));
    drawer.appendChild(el('div', { 'class': 'body' },
      el('h5', { text: 'Shown to ' + entry.agent }),
      el('div', {}, entry.visible.length ? entry.visible.map(function (id) { return el('span', { 'class': 'chip id', text: id }); }) : el('span', { 'class': 'count', text: 'no transcript messages (only its prompt)' })),
      entry.calls.length ? entry.calls.map(function (call, i) { return renderCall(call, i, entry.calls.length, 'Model call'); }) : el('p', { 'class': 'count', text: 'No model call was recorded for this entry.' }),
      judgements.map(function (j) {
        return [el('h5', { text: 'Judged by ' + j.agent + ' (' + j.role + ')' }), j.calls.map(function (call, i) { return renderCall(call, i, j.calls.length, j.agent + ' call'); })];
      })
    ));
    drawer.hidden = false;
    backdrop.hidden = false;
    drawer.querySelector('.close').focus();
  }

  function closeInspector() {
    drawer.hidden = true;
    backdrop.hidden = true;
  }

  backdrop.addEventListener('click', closeInspector);
  document.addEventListener('keydown', function (event) {
    if (event.key === 'Escape') { closeInspector(); return; }
    var typing = /^(INPUT|SELECT|TEXTAREA)$/.test((event.target || {}).tagName || '');
    if (typing || !drawer.hidden || $('panel-conversations').hidden) { return; }
    if (event.key === 'j' || event.key === 'ArrowDown') { event.preventDefault(); moveSelection(1); }
    if (event.key === 'k' || event.key === 'ArrowUp') { event.preventDefault(); moveSelection(-1); }
  });

  /* ---- start ---- */

  function linked() {
    var hash = decodeURIComponent(location.hash.slice(1));
    return { conversation: hash.slice(0, 2) === 'c=' ? hash.slice(2) : null, tab: ['conversations', 'findings', 'run'].indexOf(hash) >= 0 ? hash : null };
  }

  window.addEventListener('hashchange', function () {
    var link = linked();
    if (link.conversation) { showTab('conversations'); openConversation(link.conversation); }
    else if (link.tab) { showTab(link.tab); }
  });

  var initial = linked();
  showTab(initial.conversation ? 'conversations' : (initial.tab || config.default_tab));
  // The filters first, so that they stand when the list shows; the list loads even when they could not.
  source.facets().then(fillFilters).catch(function (error) {
    $('filter-slots').textContent = 'could not load the filters: ' + error.message;
  }).then(loadList).then(function () {
    if (initial.conversation) { openConversation(initial.conversation); }
  });
}());
