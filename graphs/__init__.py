"""From specs to running graphs: state, turn policies, visibility, stop rules, checks, compiler, runner, executors."""
