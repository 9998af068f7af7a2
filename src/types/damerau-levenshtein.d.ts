// The package ships no types: its one export, as its README documents it.
declare module 'damerau-levenshtein' {
  /** Edit distance counting insertions, deletions, substitutions and swaps of adjacent letters (one step each). */
  export default function damerauLevenshtein(
    a: string,
    b: string,
    limit?: number,
  ): { steps: number; relative: number; similarity: number };
}
