/**
 * The GraphQL operations behind the MCP tools and resources (src/mcp/server.ts):
 * fixed documents, run through the API itself, so that its limits, visibility,
 * cache and rate budgets apply to an assistant as to any client. With
 * PERSISTED_OPERATIONS=only the server trusts them as it trusts its manifest.
 */

const PAPER_FIELDS = `id number title summary url arxivId
  issue { slug title weekStart }
  category { slug name }
  related(first: 5) { id number title issue { slug } }`;

export const MCP_OPERATIONS = {
  searchPapers: `query McpSearchPapers($q: String!, $first: Int!, $filter: PaperFilter) {
  searchPapers(query: $q, first: $first, filter: $filter) {
    relaxed correctedQuery exhaustive
    edges {
      score
      node { id number title arxivId url issue { slug weekStart } category { slug name } }
      matches { field fragment highlights { start end } }
    }
  }
}`,
  paperById: `query McpPaperById($id: ID!) { node(id: $id) { ... on Paper { ${PAPER_FIELDS} } } }`,
  paperByArxivId: `query McpPaperByArxivId($id: String!) { paperByIdentifier(id: $id) { ${PAPER_FIELDS} } }`,
  paperByNumber: `query McpPaperByNumber($issue: String!, $number: String!) { paper(issue: $issue, number: $number) { ${PAPER_FIELDS} } }`,
  edition: `query McpEdition($slug: String!) { issue(slug: $slug) { slug title weekStart weekEnd markdown } }`,
  latestEdition: `query McpLatestEdition { latestIssue { slug title weekStart weekEnd markdown } }`,
  editions: `query McpEditions($first: Int!, $filter: IssueFilter) {
  issues(first: $first, filter: $filter) { nodes { slug title weekStart weekEnd paperCount } }
}`,
  categories: `query McpCategories { categories { slug name description paperCount } }`,
  papersInCategory: `query McpPapersInCategory($slug: String!, $first: Int!, $after: String) {
  category(slug: $slug) {
    slug name
    papers(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { id number title arxivId issue { slug weekStart } }
    }
  }
}`,
} as const;

/** Every document above (for the trusted-documents list). */
export const MCP_DOCUMENTS: readonly string[] = Object.values(MCP_OPERATIONS);
