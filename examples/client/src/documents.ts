import { graphql } from './graphql.js';

/**
 * The operations of the example client. They are also the persisted
 * operations manifest (`npm run client:manifest`): a server running with
 * PERSISTED_OPERATIONS=only accepts exactly these.
 */

export const PaperFields = graphql(`
  fragment PaperFields on Paper {
    number
    title
    arxivId
    url
  }
`);

export const LatestIssueQuery = graphql(
  `
    query LatestIssue {
      latestIssue {
        slug
        title
        weekStart
        weekEnd
        sections {
          number
          category { name slug }
          papers { ...PaperFields }
        }
      }
    }
  `,
  [PaperFields],
);

export const CategoryPapersQuery = graphql(
  `
    query CategoryPapers($slug: String!, $first: Int!, $after: String) {
      category(slug: $slug) {
        name
        paperCount
        papers(first: $first, after: $after) {
          totalCount
          pageInfo { hasNextPage endCursor }
          edges {
            cursor
            node {
              ...PaperFields
              issue { slug weekStart }
            }
          }
        }
      }
    }
  `,
  [PaperFields],
);

export const IssuePublishedSubscription = graphql(`
  subscription IssuePublished {
    issuePublished {
      slug
      title
      weekStart
      publishedAt
      paperCount
    }
  }
`);

/** Every operation, for the manifest. */
export const operations = [LatestIssueQuery, CategoryPapersQuery, IssuePublishedSubscription];
