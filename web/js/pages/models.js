// Models: the registry's models, one model's versions and aliases with
// their metrics, a confusion matrix as a heat map, and lineage links to the
// task that trained a version and its data.

import { api, enc } from '../api.js';
import { facts, h, json, number, table, when } from '../dom.js';

export async function renderList(view) {
  const { models } = await api('/models');
  view.append(h('h1', {}, 'Models'), table([
    { title: 'Model', cell: (m) => h('a', { href: `#/models/${enc(m.name)}` }, m.name) },
    { title: 'Latest version', cell: (m) => m.latest_version, num: true },
    { title: 'Aliases', cell: (m) => Object.entries(m.aliases).map(([a, v]) => `${a} → ${v}`).join(', ') },
  ], models, { empty: 'No model is registered yet: a task of a job that trains registers one.', id: 'models' }));
}

const split = (metrics, name) => metrics?.[name] ?? null;

// Rows are the true class, columns the predicted one; each cell's colour is
// its share of the row (the class's recall along the diagonal).
export function heatMap(matrix, labels) {
  const head = h('tr', {}, h('th', { class: 'axis' }, 'true \\ predicted'), labels.map((l) => h('th', {}, l)));
  const rows = matrix.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    return h('tr', {}, h('th', {}, labels[i]), row.map((count, j) => {
      const share = total ? count / total : 0;
      const cell = h('td', { title: `true ${labels[i]}, predicted ${labels[j]}: ${count} (${(share * 100).toFixed(1)}% of row)` }, count);
      const tone = i === j ? '26, 127, 55' : '192, 54, 44';
      cell.style.background = `rgba(${tone}, ${(0.08 + 0.85 * share).toFixed(3)})`;
      if (share > 0.55) cell.style.color = '#fff';
      return cell;
    }));
  });
  return h('table', { class: 'heatmap', id: 'confusion' }, h('thead', {}, head), h('tbody', {}, rows));
}

function metricsOf(v) {
  const val = split(v.metrics, 'validation'), tr = split(v.metrics, 'train');
  return { val, tr };
}

async function lineage(v) {
  const l = v.lineage ?? {};
  const pairs = [];
  let data = [];
  if (l.task_id) {
    pairs.push(['Trained by task', h('a', { href: `#/tasks/${enc(l.task_id)}`, id: 'lineage-task' }, l.task_id)]);
    try {
      const task = await api(`/tasks/${enc(l.task_id)}`);
      data = Object.entries(task.spec?.params ?? {}).filter(([k]) => ['train', 'validation', 'input'].includes(k));
    } catch { /* the task may be gone from the store; its id stays */ }
  }
  if (l.definition) {
    const [name] = l.definition.split(':');
    pairs.push(['Definition', h('a', { href: `#/taskdefs/${enc(name)}` }, l.definition)]);
  }
  for (const [k, where] of data) pairs.push([`Data (${k})`, h('code', {}, where)]);
  if (l.data_sha256) pairs.push(['Training data sha256', h('code', {}, l.data_sha256)]);
  if (l.estimator) pairs.push(['Estimator', l.estimator]);
  if (l.source) pairs.push(['Registered from', h('code', {}, l.source)]);
  pairs.push(['Stored at', h('code', {}, v.path)]);
  return facts(pairs);
}

async function versionDetail(v) {
  const { val, tr } = metricsOf(v);
  const panel = h('div', { id: 'version-detail' }, h('h2', {}, `Version ${v.version}`,
    v.aliases.length ? ` (${v.aliases.join(', ')})` : ''));
  panel.append(h('div', { class: 'grid' },
    h('section', { class: 'card' }, h('h3', {}, 'Lineage'), await lineage(v)),
    h('section', { class: 'card' }, h('h3', {}, 'Scores'), facts([
      ['Validation weighted F1', number(val?.weighted_f1)], ['Validation accuracy', number(val?.accuracy)],
      ['Train weighted F1', number(tr?.weighted_f1)], ['Train accuracy', number(tr?.accuracy)],
      val?.rows !== undefined && ['Validation rows', val.rows],
    ]))));
  const shown = h('div');
  const pick = (name) => {
    const m = split(v.metrics, name);
    if (!m?.confusion_matrix) {
      shown.replaceChildren(h('p', { class: 'muted' }, `No ${name} confusion matrix in this version's metrics.`));
      return;
    }
    const labels = (m.classes ?? []).map((c) => c.label);
    shown.replaceChildren(
      h('div', { class: 'grid' },
        h('div', {}, heatMap(m.confusion_matrix, labels.length ? labels : m.confusion_matrix.map((_, i) => String(i)))),
        table([
          { title: 'Class', cell: (c) => c.label },
          { title: 'Precision', cell: (c) => number(c.precision), num: true },
          { title: 'Recall', cell: (c) => number(c.recall), num: true },
          { title: 'F1', cell: (c) => number(c.f1), num: true },
          { title: 'Support', cell: (c) => c.support, num: true },
        ], m.classes ?? [])));
  };
  const tabs = h('div', { class: 'tabs' }, ['validation', 'train'].map((name) => h('button', {
    dataset: { split: name },
    onclick: (e) => {
      for (const b of tabs.children) b.classList.toggle('active', b === e.currentTarget);
      pick(name);
    },
  }, name)));
  tabs.firstChild.classList.add('active');
  pick('validation');
  panel.append(h('section', { class: 'card' }, h('h3', {}, 'Confusion matrix'), tabs, shown),
    h('details', {}, h('summary', {}, 'All metrics'), json(v.metrics)));
  return panel;
}

export async function renderOne(view, ctx, name) {
  const model = await api(`/models/${enc(name)}`);
  const versions = [...model.versions].reverse();
  const detail = h('div');
  const choose = async (v) => {
    detail.replaceChildren(await versionDetail(v));
    for (const tr of view.querySelectorAll('#versions tbody tr')) tr.classList.toggle('selected', tr.dataset.version === String(v.version));
  };
  const list = table([
    { title: 'Version', cell: (v) => v.version, num: true },
    { title: 'Aliases', cell: (v) => v.aliases.join(', ') },
    { title: 'Val. F1', cell: (v) => number(metricsOf(v).val?.weighted_f1), num: true },
    { title: 'Val. accuracy', cell: (v) => number(metricsOf(v).val?.accuracy), num: true },
    { title: 'Train F1', cell: (v) => number(metricsOf(v).tr?.weighted_f1), num: true },
    { title: 'Task', cell: (v) => (v.lineage?.task_id ? h('a', { href: `#/tasks/${enc(v.lineage.task_id)}` }, v.lineage.task_id) : '') },
    { title: 'Registered', cell: (v) => when(v.created_at) },
  ], versions, { onclick: choose, id: 'versions' });
  versions.forEach((v, i) => { list.tBodies[0].rows[i].dataset.version = v.version; });
  view.append(h('h1', {}, `Model ${name}`),
    h('p', {}, 'Aliases: ', Object.entries(model.aliases).map(([a, v]) => `${a} → version ${v}`).join(', ') || 'none'),
    list, detail);
  if (versions.length) await choose(versions[0]);
}
