/* The conversation browser of a moot run page.
 *
 * One script for both pages: the static report embeds every conversation as JSON (#moot-data),
 * the viewer (`moot view`) serves them from /api/. Both sources answer the same three questions:
 * the filter options, a page of the filtered list, and one conversation.
 * All text is inserted as text nodes, never as HTML.
 */
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('moot-config').textContent);
  var PAGE_SIZE = 50;
  var AGENT_COLORS = ['#3b5bdb', '#e8590c', '#2f9e44', '#ae3ec9', '#1098ad', '#f08c00', '#d6336c', '#5c940d'];
  var FILTERS = ['scenario', 'order', 'outcome', 'consensus', 'rounds', 'errors'];
  var PREFERRED_FIELDS = ['verdict', 'choice', 'conceded'];
  var TEXT_FIELDS = ['explanation', 'reason', 'rationale', 'argument'];

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

  /* The categorical answer of a parsed reply (mirror of moot.report.summaries.label_of_parsed). */
  function labelOf(parsed) {
    if (!parsed) { return null; }
    var keys = PREFERRED_FIELDS.filter(function (k) { return k in parsed; }).concat(Object.keys(parsed).filter(function (k) {
      return PREFERRED_FIELDS.indexOf(k) < 0 && TEXT_FIELDS.indexOf(k) < 0;
    }));
    for (var i = 0; i < keys.length; i += 1) {
      var key = keys[i], value = parsed[key];
      if (typeof value === 'boolean') {
        if (key === 'conceded') { return value ? 'conceded' : 'held'; }
        return value ? key : 'not ' + key;
      }
      if (typeof value === 'number' || (typeof value === 'string' && value.length > 0 && value.length <= 24)) { return String(value); }
    }
    return null;
  }

  /* What a reader wants from a parsed reply: its explanation or reason, else its other text. */
  function textOf(parsed, content) {
    if (!parsed) { return content; }
    for (var i = 0; i < TEXT_FIELDS.length; i += 1) {
      if (typeof parsed[TEXT_FIELDS[i]] === 'string') { return parsed[TEXT_FIELDS[i]]; }
    }
    var label = labelOf(parsed);
    var rest = Object.keys(parsed).filter(function (k) { return String(parsed[k]) !== label && k !== 'dropped_values'; });
    return rest.map(function (k) { return k + ': ' + (typeof parsed[k] === 'string' ? parsed[k] : JSON.stringify(parsed[k])); }).join('\n');
  }

  function badge(label, extra) {
    var cls = 'badge v-' + String(label).replace(/\s+/g, '-') + (extra ? ' ' + extra : '');
    return el('span', { 'class': cls, text: label });
  }

  function outcomeBadge(s) {
    if (s.status === 'failed') { return badge('failed'); }
    if (!s.outcome) { return el('span', { 'class': 'badge muted', text: s.status === 'running' ? 'running' : '—' }); }
    return badge(s.outcome);
  }

  /* ---- filtering (mirror of moot.report.query.ListQuery.matches) ---- */

  function matches(s, query, search, scenarioText) {
    if (query.scenario && s.scenario !== query.scenario) { return false; }
    if (query.order && orderKey(s.order) !== query.order) { return false; }
    if (query.outcome && (s.outcome || '-') !== query.outcome) { return false; }
    if (query.consensus && s.consensus !== (query.consensus === 'yes')) { return false; }
    if (query.rounds !== '' && s.rounds !== Number(query.rounds)) { return false; }
    if (query.errors && hasErrors(s) !== (query.errors === 'yes')) { return false; }
    var words = query.q.toLowerCase().split(/\s+/).filter(Boolean);
    return words.every(function (w) { return search.indexOf(w) >= 0 || scenarioText.indexOf(w) >= 0; });
  }

  /* Mirror of moot.report.query.facets_summaries. */
  function facetsOf(summaries) {
    var scenarios = {}, titles = {}, orders = {}, outcomes = {}, rounds = {}, consensus = { yes: 0, no: 0 }, errors = { yes: 0, no: 0 };
    var scenarioOrder = [], orderOrder = [];
    summaries.forEach(function (s) {
      if (!(s.scenario in scenarios)) { scenarios[s.scenario] = 0; titles[s.scenario] = s.title; scenarioOrder.push(s.scenario); }
      scenarios[s.scenario] += 1;
      var key = orderKey(s.order);
      if (!(key in orders)) { orders[key] = 0; orderOrder.push(key); }
      orders[key] += 1;
      var outcome = s.outcome || '-';
      outcomes[outcome] = (outcomes[outcome] || 0) + 1;
      rounds[s.rounds] = (rounds[s.rounds] || 0) + 1;
      consensus[s.consensus ? 'yes' : 'no'] += 1;
      errors[hasErrors(s) ? 'yes' : 'no'] += 1;
    });
    return {
      total: summaries.length,
      scenarios: scenarioOrder.map(function (id) { return [id, titles[id], scenarios[id]]; }),
      orders: orderOrder.map(function (k) { return [k, orders[k]]; }),
      outcomes: Object.keys(outcomes).map(function (k) { return [k, outcomes[k]]; }).sort(function (a, b) { return b[1] - a[1]; }),
      rounds: Object.keys(rounds).map(Number).sort(function (a, b) { return a - b; }).map(function (r) { return [r, rounds[r]]; }),
      consensus: [['yes', consensus.yes], ['no', consensus.no]],
      errors: [['yes', errors.yes], ['no', errors.no]]
    };
  }

  /* ---- data sources ---- */

  function embeddedSource(data) {
    var facets = facetsOf(data.summaries);
    return {
      facets: function () { return Promise.resolve(facets); },
      list: function (query, offset, limit) {
        var matched = data.summaries.filter(function (s) {
          return matches(s, query, data.search[s.id] || '', data.scenarios[s.scenario] || '');
        });
        return Promise.resolve({ total: data.summaries.length, matched: matched.length, offset: offset, limit: limit, items: matched.slice(offset, offset + limit) });
      },
      conversation: function (id) { return Promise.resolve(data.details[id] || null); }
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

  var state = { query: { q: '', scenario: '', order: '', outcome: '', consensus: '', rounds: '', errors: '' }, offset: 0, page: null, selected: null, listRequest: 0 };
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

  /* ---- filters ---- */

  function fillFilters(facets) {
    var labels = {
      scenario: function (f) { return [f[0], (f[1] ? f[1] + ' · ' + f[0] : f[0]) + ' (' + f[2] + ')']; },
      order: function (f) { return [f[0], f[0] + ' (' + f[1] + ')']; },
      outcome: function (f) { return [f[0], (f[0] === '-' ? 'no outcome' : f[0]) + ' (' + f[1] + ')']; },
      consensus: function (f) { return [f[0], (f[0] === 'yes' ? 'consensus' : 'no consensus') + ' (' + f[1] + ')']; },
      rounds: function (f) { return [String(f[0]), plural(f[0], 'round') + ' (' + f[1] + ')']; },
      errors: function (f) { return [f[0], (f[0] === 'yes' ? 'with errors' : 'without errors') + ' (' + f[1] + ')']; }
    };
    var lists = { scenario: facets.scenarios, order: facets.orders, outcome: facets.outcomes, consensus: facets.consensus, rounds: facets.rounds, errors: facets.errors };
    FILTERS.forEach(function (name) {
      var select = $('f-' + name);
      lists[name].forEach(function (facet) {
        var pair = labels[name](facet);
        select.appendChild(el('option', { value: pair[0], text: pair[1] }));
      });
      select.value = state.query[name];
    });
  }

  FILTERS.forEach(function (name) {
    $('f-' + name).addEventListener('change', function (event) {
      state.query[name] = event.target.value;
      event.target.classList.toggle('active', event.target.value !== '');
      state.offset = 0;
      loadList();
    });
  });

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
    FILTERS.forEach(function (name) { var s = $('f-' + name); s.value = ''; s.classList.remove('active'); });
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
          el('span', { text: s.scenario }), '·', el('span', { text: orderKey(s.order) }), '·', el('span', { text: plural(s.rounds, 'round') }),
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
    var labelled = c.rounds_detail.some(function (r) { return r.messages.some(function (m) { return labelOf(m.parsed); }); });
    if (c.consensus) { badges.push(el('span', { 'class': 'badge ok', text: 'consensus' })); }
    else if (c.status === 'completed' && labelled) { badges.push(el('span', { 'class': 'badge muted', text: 'no consensus' })); }
    badges.push(el('span', { 'class': 'badge muted', text: plural(c.rounds, 'round') }));
    c.order.forEach(function (agent) {
      badges.push(el('span', { 'class': 'chip', style: 'border-left: 3px solid ' + agentColor(c, agent), text: agent }));
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

  /* The scenario's short metadata as chips, its text and all its metadata behind a disclosure. */
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

  function renderRound(c, r, previous) {
    return el('section', { 'class': 'round', 'data-round': r.round },
      el('div', { 'class': 'round-head' }, el('h4', { text: 'Round ' + r.round }), el('div', { 'class': 'rule' })),
      el('div', { 'class': 'speakers', style: '--n: ' + Math.max(1, c.order.length, r.messages.length) }, r.messages.map(function (m) { return renderMessage(c, r, m, previous); })),
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

  function renderMessage(c, r, m, previous) {
    var label = labelOf(m.parsed);
    var changed = null;
    if (label && previous[m.agent] && previous[m.agent] !== label) { changed = el('span', { 'class': 'changed', text: 'was ' + previous[m.agent] }); }
    if (label) { previous[m.agent] = label; }
    var otherJudgements = m.judgements.filter(function (j) { return !(j.parsed && Array.isArray(j.parsed.values)); });
    var text = m.kind === 'failed' ? (m.error || 'the turn failed') : textOf(m.parsed, m.content);
    return el('div', { 'class': 'msg ' + m.kind, 'data-id': m.id, style: '--agent: ' + agentColor(c, m.agent) },
      el('div', { 'class': 'head' },
        el('span', { 'class': 'who', text: m.agent }), el('span', { 'class': 'role', text: m.role }),
        label ? badge(label) : null,
        m.parse_error ? el('span', { 'class': 'badge v-unparsed', title: m.parse_error, text: 'unparsed' }) : null,
        m.kind === 'failed' ? badge('failed') : null,
        changed),
      el('div', { 'class': 'text' + (m.parse_error || m.kind === 'failed' ? ' raw' : ''), text: text }),
      m.values.length ? el('div', { 'class': 'values', title: 'values tagged by the judge' }, m.values.map(function (v) { return el('span', { 'class': 'chip', text: v }); })) : null,
      otherJudgements.map(function (j) {
        return el('div', { 'class': 'role' }, j.agent + ': ', labelOf(j.parsed) ? badge(labelOf(j.parsed)) : textOf(j.parsed, j.content));
      }),
      el('div', { 'class': 'foot' },
        el('span', { 'class': 'stats', text: callStats(m.calls) }),
        el('button', { type: 'button', 'class': 'inspect-btn', onclick: function () { openInspector(c, r, m); } }, 'Inspect'))
    );
  }

  function renderDecision(c, r, d) {
    var label = labelOf(d.parsed);
    return el('div', { 'class': 'decision', 'data-agent': d.agent },
      el('b', { text: d.agent }),
      label ? badge(label) : el('span', { 'class': 'badge v-unparsed', text: 'unparsed' }),
      el('div', { 'class': 'text', text: textOf(d.parsed, d.content) }),
      el('button', { type: 'button', 'class': 'inspect-btn', onclick: function () { openInspector(c, r, d); } }, 'Inspect'));
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
  source.facets().then(fillFilters).catch(function (error) { shown.textContent = 'could not load the filters: ' + error.message; });
  loadList().then(function () {
    if (initial.conversation) { openConversation(initial.conversation); }
  });
}());
