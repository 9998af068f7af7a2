import { builder } from '../builder.js';

export const OrderDirection = builder.enumType('OrderDirection', {
  description: 'Which way an ordering runs.',
  values: {
    ASC: { description: 'Ascending: oldest or smallest first.' },
    DESC: { description: 'Descending: newest or largest first.' },
  },
});

export const IssueStatusEnum = builder.enumType('IssueStatus', {
  description: 'Publication state of an edition.',
  values: {
    DRAFT: { value: 'draft', description: 'Being prepared; visible to editors only.' },
    PUBLISHED: { value: 'published', description: 'Public.' },
  },
});

export const IssueOrderField = builder.enumType('IssueOrderField', {
  description: 'Properties by which editions can be ordered.',
  values: { WEEK_START: { description: 'By the first day of the edition’s week.' } },
});

export const IssueOrder = builder.inputType('IssueOrder', {
  description: 'Ordering of editions.',
  fields: (t) => ({
    field: t.field({ type: IssueOrderField, required: true, description: 'The property to order by.' }),
    direction: t.field({ type: OrderDirection, required: true, description: 'The direction of the order.' }),
  }),
});

export const IssueFilter = builder.inputType('IssueFilter', {
  description: 'Restricts a list of editions. All given conditions must hold.',
  fields: (t) => ({
    weekFrom: t.field({ type: 'Date', description: 'Editions whose week starts on or after this date.' }),
    weekTo: t.field({ type: 'Date', description: 'Editions whose week starts on or before this date.' }),
    status: t.field({
      type: IssueStatusEnum,
      description: 'Only editions in this state. Readers without an editor token only ever see published ones.',
    }),
  }),
});

export const PaperOrderField = builder.enumType('PaperOrderField', {
  description: 'Properties by which papers can be ordered.',
  values: {
    WEEK: {
      description:
        'By the week of the edition they appeared in; inside an edition always by number (1.1, 1.2, 2.1, …).',
    },
  },
});

export const PaperOrder = builder.inputType('PaperOrder', {
  description: 'Ordering of papers.',
  fields: (t) => ({
    field: t.field({ type: PaperOrderField, required: true, description: 'The property to order by.' }),
    direction: t.field({ type: OrderDirection, required: true, description: 'The direction of the order.' }),
  }),
});

export const PaperFilter = builder.inputType('PaperFilter', {
  description: 'Restricts a list of papers. All given conditions must hold.',
  fields: (t) => ({
    categories: t.stringList({
      description: 'Papers in any of these categories (by slug). At most 50 slugs.',
    }),
    issue: t.string({ description: 'Papers of the edition with this slug.' }),
    weekFrom: t.field({ type: 'Date', description: 'Papers of editions whose week starts on or after this date.' }),
    weekTo: t.field({ type: 'Date', description: 'Papers of editions whose week starts on or before this date.' }),
  }),
});
