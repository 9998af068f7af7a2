import { type CitablePaper, bibtexEntry, citation } from '../../feeds/citations.js';
import { builder } from '../builder.js';
import type { Context } from '../context.js';
import { PaperRef } from '../refs.js';
import type { PaperShape } from '../shapes.js';

/** Citations of a paper (src/feeds/citations.ts formats them): `Paper.bibtex`, `Paper.citation`. */

export const CitationStyleEnum = builder.enumType('CitationStyle', {
  description: 'A reference style for `Paper.citation`.',
  values: {
    APA: { description: 'APA, 7th edition (the title in the author’s place: the newsletter does not list authors).' },
    IEEE: { description: 'IEEE: "Title," arXiv preprint arXiv:ID, year. [Online]. Available: URL' },
    CHICAGO: { description: 'Chicago author-date, without an author: "Title." Year. Preprint, arXiv:ID. URL.' },
  },
});

/** What a citation needs of a paper: its title, arXiv id and link (loaded when the row read lacks them) and its edition. */
async function citable(p: PaperShape, ctx: Context): Promise<CitablePaper> {
  const carried =
    p.title !== undefined &&
    p.arxivId !== undefined &&
    p.url !== undefined &&
    p.issueId !== undefined &&
    p.weekStart !== undefined &&
    p.sectionNumber !== undefined &&
    p.position !== undefined;
  const row = carried ? p : await ctx.loaders.paperById.load(p.id);
  if (!row) throw new Error(`paper ${p.id} not found`);
  const issue = p.edition?.slug !== undefined ? p.edition : await ctx.loaders.issueById.load(row.issueId!);
  if (!issue?.slug) throw new Error(`paper ${p.id} has no visible issue`);
  return {
    title: row.title!,
    arxivId: row.arxivId ?? null,
    url: row.url ?? null,
    issueSlug: issue.slug,
    weekStart: row.weekStart!,
    number: `${row.sectionNumber}.${row.position}`,
  };
}

builder.objectFields(PaperRef, (t) => ({
  bibtex: t.string({
    description:
      'A BibTeX entry for the paper: `@misc` with its title, year and month, and for an arXiv paper `eprint`, `archivePrefix = {arXiv}` and its arXiv DOI; `url` always when there is one. The key is `arxiv:ID`, or `llmpapers:EDITION:NUMBER`. No author: the newsletter does not list them (add them from arXiv). Also `GET /issues/{slug}/papers/{n}.bib`.',
    resolve: async (p, _a, ctx) => bibtexEntry(await citable(p, ctx)),
  }),
  citation: t.string({
    description:
      'The paper as a formatted reference (plain text) in a citation style. Without authors (the newsletter does not list them), every style puts the title first.',
    args: {
      style: t.arg({ type: CitationStyleEnum, required: true, defaultValue: 'APA', description: 'The style.' }),
    },
    resolve: async (p, args, ctx) => citation(await citable(p, ctx), args.style),
  }),
}));
