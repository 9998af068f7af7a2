/**
 * slugify("LLM Training & Fine-Tuning") === "llm-training-fine-tuning".
 *
 * Rules, in order:
 * 1. lower-case;
 * 2. transliterate: NFKD-decompose and drop combining marks ("é" → "e"),
 *    plus a few letters NFKD does not decompose ("ß" → "ss", "æ" → "ae", …);
 * 3. every run of characters other than a-z / 0-9 becomes a single "-";
 * 4. no leading or trailing "-".
 * All steps are linear in the input length.
 */
const COMBINING_MARKS = /\p{M}+/gu;
const ALPHANUMERIC_RUNS = /[a-z0-9]+/g;
const NON_ASCII = /[^\x00-\x7f]/;

/** Letters that survive NFKD unchanged but have a common ASCII spelling. */
const EXTRA_TRANSLITERATIONS: Readonly<Record<string, string>> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  đ: 'd',
  ð: 'd',
  ł: 'l',
  þ: 'th',
  ı: 'i',
};
const EXTRA_LETTERS = new RegExp(`[${Object.keys(EXTRA_TRANSLITERATIONS).join('')}]`, 'gu');

export function slugify(name: string): string {
  let text = name.toLowerCase();
  // Transliteration only matters (and only costs) for non-ASCII text.
  if (NON_ASCII.test(text)) {
    text = text
      .normalize('NFKD')
      .replace(COMBINING_MARKS, '')
      .replace(EXTRA_LETTERS, (letter) => EXTRA_TRANSLITERATIONS[letter] ?? letter);
  }
  // Joining the alphanumeric runs with "-" collapses and trims separators at once.
  return (text.match(ALPHANUMERIC_RUNS) ?? []).join('-');
}
