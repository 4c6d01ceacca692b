// Login: the server's bearer token (HOME/server.token, printed where
// `wharf server` says), checked against the API, kept for this tab.

import { api, session } from '../api.js';
import { errorBox, h } from '../dom.js';

export async function render(view) {
  const input = h('input', { type: 'password', id: 'token', autocomplete: 'off', required: true,
    placeholder: 'contents of ~/.wharf/server.token' });
  const problem = h('div');
  const form = h('form', { class: 'card login', id: 'login-form' },
    h('h1', {}, 'Log in to wharf'),
    h('p', { class: 'muted' }, 'Paste the server\'s bearer token: the file ', h('code', {}, 'server.token'),
      ' in the server\'s home (', h('code', {}, '~/.wharf'), ' by default). It is kept for this browser tab only.'),
    problem,
    h('p', {}, input),
    h('button', { class: 'primary', type: 'submit', id: 'login' }, 'Log in'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    try {
      await api('/jobs', { token });
      session.login(token);
      location.hash = '#/';
    } catch (e) {
      problem.replaceChildren(errorBox(e.status === 401 ? new Error('That token is not this server\'s.') : e));
    }
  });
  view.append(form);
  input.focus();
}
