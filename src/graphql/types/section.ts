import { builder } from '../builder.js';
import { CategoryRef, PaperRef, SectionRef } from '../refs.js';

builder.objectType(SectionRef, {
  description: 'A category as it appears, numbered, inside one edition ("2. LLM Reasoning"), with its papers.',
  fields: (t) => ({
    number: t.exposeInt('number', { description: 'Section number inside the edition (1-based).' }),
    category: t.field({
      type: CategoryRef,
      description: 'The category this section presents.',
      // Sections loaded with their edition carry it: no promise per section.
      resolve: (s, _a, ctx) =>
        s.category ??
        ctx.loaders.categoryById.load(s.categoryId).then((category) => {
          if (!category) throw new Error(`section ${s.id} has no category`);
          return category;
        }),
    }),
    papers: t.field({
      type: [PaperRef],
      description: 'The papers of the section, in number order.',
      resolve: (s, _a, ctx) => s.papers ?? ctx.loaders.papersBySectionId.load(s.id),
    }),
  }),
});
