import { Marked } from 'marked';

/**
 * Markdown → HTML for feed content (GFM, via `marked`).
 *
 * Summaries are written by editors, but feed HTML ends up in other people's
 * readers, so it is rendered defensively: raw HTML in the Markdown is shown as
 * text (escaped), and links or images whose URL has a scheme other than
 * http(s) or mailto (javascript:, data:, …) keep their text and lose the link.
 */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]!);
}

const SCHEME = /^([a-z][a-z0-9+.-]*):/i;
const SAFE_SCHEMES = new Set(['http', 'https', 'mailto']);

/** Relative URLs and http(s)/mailto ones. Control characters and whitespace are ignored, as browsers do. */
export function isSafeUrl(href: string): boolean {
  const scheme = SCHEME.exec(href.replace(/[\u0000-\u0020\u007f]/g, ''));
  return scheme === null || SAFE_SCHEMES.has(scheme[1]!.toLowerCase());
}

const markdown = new Marked({ gfm: true, breaks: false, async: false });
markdown.use({
  renderer: {
    html({ text }) {
      return escapeHtml(text);
    },
    link(token) {
      // `false` falls back to marked's own rendering.
      return isSafeUrl(token.href) ? false : this.parser.parseInline(token.tokens);
    },
    image(token) {
      return isSafeUrl(token.href) ? false : escapeHtml(token.text);
    },
  },
});

/** Renders Markdown to an HTML fragment. Pure and synchronous. */
export function markdownToHtml(source: string): string {
  return markdown.parse(source, { async: false });
}
