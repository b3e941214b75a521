// The views' HTML, escaping by default: defined in the domain, where the emails use it too.
export { escapeHtml, html, Html, trusted } from '../../domain/html.js';
