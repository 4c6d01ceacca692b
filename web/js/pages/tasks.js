// Tasks: the list (filtered by state, definition, run group), and one task
// with its attempts, exit code, outputs and a log tail that follows while
// it runs.

import { api, enc, query } from '../api.js';
import { badge, busy, confirm, download, duration, facts, flash, h, json, report, table, when } from '../dom.js';

const STATES = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];
const LOG_KEEP = 2 << 20;  // characters of log kept on the page

export const taskLink = (t) => h('a', { href: `#/tasks/${enc(t.id)}` }, t.id);
const isDone = (t) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(t.state);

export async function renderList(view, ctx) {
  const state = h('select', { id: 'filter-state' }, h('option', { value: '' }, 'any state'),
    STATES.map((s) => h('option', { value: s, selected: ctx.query.get('state') === s }, s)));
  const taskdef = h('input', { id: 'filter-taskdef', placeholder: 'definition', value: ctx.query.get('taskdef') ?? '' });
  const group = ctx.query.get('group') ?? '';
  const list = h('div');
  const refresh = async () => {
    const { tasks } = await api(`/tasks${query({ state: state.value, taskdef: taskdef.value.trim(), group, limit: 200 })}`);
    list.replaceChildren(table([
      { title: 'Task', cell: taskLink },
      { title: 'Definition', cell: (t) => h('a', { href: `#/taskdefs/${enc(t.taskdef)}` }, `${t.taskdef}:${t.revision}`) },
      { title: '#', cell: (t) => `${t.index + 1}/${t.count}`, num: true },
      { title: 'State', cell: (t) => badge(t.state) },
      { title: 'Attempt', cell: (t) => `${t.attempt}/${t.max_attempts}`, num: true },
      { title: 'Exit', cell: (t) => t.exit_code ?? '', num: true },
      { title: 'Reason', cell: (t) => t.reason },
      { title: 'Created', cell: (t) => when(t.created_at) },
      { title: 'Took', cell: (t) => (t.started_at ? duration(t.started_at, t.finished_at) : '') },
    ], tasks, { empty: 'No task matches.', id: 'tasks' }));
  };
  state.addEventListener('change', () => refresh().catch(report));
  taskdef.addEventListener('change', () => refresh().catch(report));
  view.append(h('h1', {}, 'Tasks'),
    h('div', { class: 'row card' }, h('label', {}, 'State', state), h('label', {}, 'Definition', taskdef),
      group ? h('span', {}, 'Run group ', h('code', {}, group), ' · ', h('a', { href: '#/tasks' }, 'all tasks')) : ''),
    list);
  await ctx.every(2000, refresh);
}

// Follows one log stream from offset 0, appending to `pre` while
// `isShown()`; stops at the end of a finished task's log.
function follower(id, stream, pre, isShown) {
  let offset = 0, final = false;
  return async () => {
    if (final || !isShown()) return;
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    for (;;) {  // a chunk at a time until this tick has caught up
      const chunk = await api(`/tasks/${enc(id)}/logs${query({ stream, offset, max_bytes: 262144 })}`);
      if (!isShown()) return;
      if (chunk.data) {
        let text = pre.textContent + chunk.data;
        if (text.length > LOG_KEEP) text = text.slice(-LOG_KEEP);
        pre.textContent = text;
      }
      offset = chunk.next_offset;
      final = chunk.final;
      if (!chunk.data || chunk.final) break;
    }
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  };
}

export async function renderOne(view, ctx, id) {
  const summary = h('div'), outputs = h('div'), spec = h('div');
  const pre = h('pre', { class: 'log', id: 'log' });
  const tabs = h('div', { class: 'tabs' });
  let generation = 0;  // of the follower shown; an older one stops
  const followStream = (stream) => {
    const mine = ++generation;
    return follower(id, stream, pre, () => generation === mine);
  };
  let follow = followStream('stdout');
  const pickStream = (stream) => {
    for (const b of tabs.children) b.classList.toggle('active', b.dataset.stream === stream);
    pre.textContent = '';
    follow = followStream(stream);
    follow().catch(report);
  };
  for (const stream of ['stdout', 'stderr']) {
    tabs.append(h('button', { dataset: { stream }, id: `log-${stream}`, onclick: () => pickStream(stream) }, stream));
  }
  tabs.firstChild.classList.add('active');
  const stop = h('button', { class: 'danger', id: 'stop', hidden: true }, 'Stop');
  stop.addEventListener('click', async () => {
    if (!(await confirm(`Stop task ${id}? It gets SIGTERM, then SIGKILL after 10 s.`))) return;
    await busy(stop, async () => {
      await api(`/tasks/${enc(id)}/stop`, { method: 'POST', body: {} });
      flash(`Stopping ${id}`);
    });
  });

  view.append(h('div', { class: 'row' }, h('h1', {}, `Task ${id}`), h('span', { class: 'spacer' }), stop),
    h('div', { class: 'grid' }, h('section', { class: 'card' }, summary),
      h('section', { class: 'card' }, h('h2', {}, 'Outputs'), outputs)),
    h('section', { class: 'card' }, h('h2', {}, 'Log'), tabs, pre),
    h('h2', {}, 'Effective definition'), spec);

  let task = null;
  const refresh = async () => {
    if (task && isDone(task)) return follow();
    task = await api(`/tasks/${enc(id)}`);
    stop.hidden = isDone(task);
    summary.replaceChildren(facts([
      ['State', h('span', { id: 'task-state' }, badge(task.state))],
      ['Definition', h('a', { href: `#/taskdefs/${enc(task.taskdef)}` }, `${task.taskdef} revision ${task.revision}`)],
      ['Run group', h('a', { href: `#/tasks?group=${enc(task.group_id)}` }, task.group_id)],
      ['Task', `${task.index + 1} of ${task.count}`],
      ['Attempt', `${task.attempt} of ${task.max_attempts}`],
      ['Exit code', task.exit_code ?? '–'],
      task.reason && ['Reason', task.reason],
      ['Created', when(task.created_at)],
      ['Started', when(task.started_at)],
      ['Finished', when(task.finished_at)],
      task.started_at && ['Took', duration(task.started_at, task.finished_at)],
      task.next_attempt_at && ['Next attempt', when(task.next_attempt_at)],
    ]));
    spec.replaceChildren(json(task.spec));
    const { artifacts } = await api(`/artifacts${query({ prefix: task.output_prefix })}`);
    outputs.replaceChildren(table([
      { title: 'File', cell: (a) => h('button', { class: 'link', onclick: () => save(a.name) }, a.name.slice(task.output_prefix.length)) },
      { title: 'Size', cell: (a) => a.size, num: true },
    ], artifacts, { empty: isDone(task) ? 'No outputs.' : 'None yet.' }));
    await follow();
  };
  await ctx.every(1000, refresh);
}

async function save(name) {
  try {
    download(name.split('/').pop(), await api(`/artifacts/${name.split('/').map(enc).join('/')}`, { as: 'blob' }));
  } catch (e) {
    report(e);
  }
}
