// The endpoint chooser the captures and drift pages share: the applied
// endpoints, the one in the page's query first.

import { api } from '../api.js';
import { h } from '../dom.js';

export async function endpointPicker(ctx) {
  const { endpoints } = await api('/endpoints');
  const wanted = ctx.query.get('endpoint');
  return h('select', { id: 'endpoint' }, endpoints.map((e) =>
    h('option', { value: e.name, selected: e.name === wanted }, e.name)));
}
