import { Marked } from 'marked';
import sanitizeHtml from 'sanitize-html';

/**
 * Markdown → HTML for feed content (GFM, via `marked`), then through an
 * allow-list sanitizer (`sanitize-html`).
 *
 * Summaries are written by editors, but feed HTML ends up in other people's
 * readers, so it is rendered defensively, in two independent layers:
 *
 * 1. The renderer: raw HTML in the Markdown is shown as text (escaped); links
 *    whose URL has a scheme other than http(s) or mailto (javascript:, data:, …)
 *    keep their text and lose the link; images become a link to the image
 *    (or just their text when the URL is unsafe), never an <img>.
 * 2. The sanitizer, on whatever the renderer produced: only the tags of
 *    `ALLOWED_TAGS` survive (others are dropped, their text kept; the content
 *    of script, style, textarea, option and noscript is dropped too), the only
 *    attribute is `href` on <a>, with the schemes of `ALLOWED_SCHEMES` or a
 *    relative URL (not a protocol-relative `//host/…`; character references and
 *    control characters in the scheme are decoded/ignored first, as browsers
 *    do), and every link gets `rel="nofollow noopener noreferrer"`.
 *
 * So the output's safety does not rest on the renderer's escaping alone.
 */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]!);
}

/** Every element feed HTML may contain. h1–h4 and hr: the renderer makes them from edition Markdown (`##`, `---`). */
export const ALLOWED_TAGS: readonly string[] = [
  'p',
  'br',
  'em',
  'strong',
  'code',
  'pre',
  'ul',
  'ol',
  'li',
  'blockquote',
  'a',
  'h1',
  'h2',
  'h3',
  'h4',
  'hr',
];
/** The only attributes: on <a>, `href` (checked against ALLOWED_SCHEMES) and the `rel` set below. */
export const ALLOWED_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = { a: ['href', 'rel'] };
/** URL schemes a link may have (relative URLs, without a scheme, are kept too). */
export const ALLOWED_SCHEMES: readonly string[] = ['http', 'https', 'mailto'];
/** Set on every link (replacing any other value). */
export const LINK_REL = 'nofollow noopener noreferrer';

const SCHEME = /^([a-z][a-z0-9+.-]*):/i;
const SAFE_SCHEMES = new Set(ALLOWED_SCHEMES);

/**
 * Relative URLs and http(s)/mailto ones. Control characters and whitespace are
 * ignored, as browsers do. A URL whose part before the first "/", "?" or "#"
 * has a "&" (a character reference such as `jav&#x09;ascript:` or
 * `javascript&#58;`, which an HTML parser decodes) is not relative: unsafe
 * unless it has an allowed scheme.
 */
export function isSafeUrl(href: string): boolean {
  const compact = href.replace(/[\u0000-\u0020\u007f]/g, '');
  const scheme = SCHEME.exec(compact);
  if (scheme !== null) return SAFE_SCHEMES.has(scheme[1]!.toLowerCase());
  const head = /^[^/?#]*/.exec(compact)![0];
  return !head.includes(':') && !head.includes('&');
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
      // No images in feed HTML (no remote loads in readers' apps): a link to it, labelled with its text.
      const label = escapeHtml(token.text || 'image');
      return isSafeUrl(token.href) ? `<a href="${escapeHtml(token.href)}">${label}</a>` : label;
    },
  },
});

const SANITIZE_OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [...ALLOWED_TAGS],
  allowedAttributes: Object.fromEntries(Object.entries(ALLOWED_ATTRIBUTES).map(([tag, attrs]) => [tag, [...attrs]])),
  allowedSchemes: [...ALLOWED_SCHEMES],
  allowedSchemesByTag: {},
  allowedSchemesAppliedToAttributes: ['href'],
  // "//host/path" takes the reader's scheme: refused, every link here is absolute or relative to the site.
  allowProtocolRelative: false,
  allowedClasses: {},
  allowedStyles: {},
  parseStyleAttributes: false,
  // Tags off the list go, their text stays (escaped); script, style, … go with their content.
  disallowedTagsMode: 'discard',
  // A fragment: text outside an <html> element must not be thrown away.
  enforceHtmlBoundary: false,
  transformTags: { a: sanitizeHtml.simpleTransform('a', { rel: LINK_REL }) },
};

/** Sanitizes an HTML fragment to the allow-list above. Pure and synchronous. */
export function sanitizeFeedHtml(html: string): string {
  return sanitizeHtml(html, SANITIZE_OPTIONS);
}

/** Renders Markdown to a sanitized HTML fragment. Pure and synchronous. */
export function markdownToHtml(source: string): string {
  return sanitizeFeedHtml(markdown.parse(source, { async: false }));
}
