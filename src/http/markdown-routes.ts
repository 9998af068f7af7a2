import type { Plugin } from 'graphql-yoga';
import type { Db } from '../db/client.js';
import { editionRows } from '../db/queries/editions.js';
import { documentFromRows } from '../newsletter/document.js';
import { renderMarkdown } from '../newsletter/markdown.js';

const ISSUE_MD = /^\/issues\/([a-z0-9-]{1,100})\.md$/;

/** Renders a published edition as Markdown, or null when there is none. */
export async function editionMarkdown(db: Db, slug: string): Promise<string | null> {
  const rows = await editionRows(db, slug, false);
  return rows ? renderMarkdown(documentFromRows(rows.issue, rows.sections, rows.papers)) : null;
}

/** `GET /issues/{slug}.md`: the edition in the Markdown export format (published editions only). */
export function markdownRoutes(db: Db): Plugin {
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      const match = ISSUE_MD.exec(url.pathname);
      if (!match) return;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        endResponse(new fetchAPI.Response('Method Not Allowed', { status: 405, headers: { allow: 'GET, HEAD' } }));
        return;
      }
      const markdown = await editionMarkdown(db, match[1]!);
      endResponse(
        markdown === null
          ? new fetchAPI.Response('Not Found\n', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' } })
          : new fetchAPI.Response(request.method === 'HEAD' ? null : markdown, {
              status: 200,
              headers: { 'content-type': 'text/markdown; charset=utf-8' },
            }),
      );
    },
  };
}
