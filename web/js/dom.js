// Small DOM helpers the pages share. Everything is built with elements and
// text nodes (never innerHTML), so a value from the server is always shown
// as text.

// An element: h('a', {href: '#/x', class: 'y', onclick: fn}, 'text', child, [more]).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'value') el.value = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? '' : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// A table: columns are {title, cell: row => node|text, num?: true}; rows
// get `onclick(row)` when given.
export function table(columns, rows, { empty = 'Nothing here yet.', onclick, id } = {}) {
  if (!rows.length) return h('p', { class: 'muted' }, empty);
  return h('table', { id },
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { class: c.num ? 'num' : '' }, c.title)))),
    h('tbody', {}, rows.map((row) => h('tr', {
      class: onclick ? 'clickable' : '',
      onclick: onclick ? () => onclick(row) : undefined,
    }, columns.map((c) => h('td', { class: c.num ? 'num' : '' }, c.cell(row)))))));
}

// A local date and time for an ISO-8601 string ('' for none).
export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { hour12: false });
}

// "3.2 s", "4 min 5 s" between two ISO times (or until now).
export function duration(fromIso, toIso) {
  if (!fromIso) return '';
  const ms = (toIso ? new Date(toIso) : new Date()) - new Date(fromIso);
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}

export function number(x, digits = 3) {
  return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '–';
}

const STATE_TONE = {
  SUCCEEDED: 'ok', RUNNING: 'info', PENDING: 'warn', FAILED: 'bad', CANCELLED: '',
  healthy: 'ok', unhealthy: 'bad', starting: 'warn',
};

// A coloured label for a task state, replica health and the like.
export function badge(text, tone = STATE_TONE[text] ?? '') {
  return h('span', { class: `badge ${tone}` }, text);
}

export function json(value) {
  return h('pre', {}, JSON.stringify(value, null, 2));
}

export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(Boolean).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

export function errorBox(error) {
  return h('div', { class: 'error-box', role: 'alert' }, error?.message ?? String(error));
}

// A message in the corner for a few seconds.
export function flash(message, { error = false } = {}) {
  const el = h('div', { class: `msg${error ? ' error' : ''}` }, message);
  document.getElementById('flash').append(el);
  setTimeout(() => el.remove(), error ? 8000 : 4000);
}

// Shows a failure of work nobody awaits (a change handler, a background reload).
export function report(error) {
  flash(error?.message ?? String(error), { error: true });
}

// Asks before a destructive action; resolves true on Confirm.
export function confirm(message) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-message').textContent = message;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.returnValue = '';
    dialog.showModal();
  });
}

// Runs `action` for a button, showing failures; the button is disabled meanwhile.
export async function busy(button, action) {
  button.disabled = true;
  try {
    return await action();
  } catch (e) {
    flash(e.message, { error: true });
    return undefined;
  } finally {
    button.disabled = false;
  }
}

// Saves a Blob (or text of MIME `type`) as a file the browser downloads.
export function download(name, content, type = 'text/plain') {
  const url = URL.createObjectURL(content instanceof Blob ? content : new Blob([content], { type }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
