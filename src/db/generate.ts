import type { Db } from './client.js';
import { ensureCategories, insertEdition } from './queries/editions.js';

/** Small deterministic PRNG (mulberry32), so generated archives are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const GENERATED_CATEGORIES = [
  'LLM Progress & Technical Reports',
  'LLM Reasoning',
  'LLM Training & Fine-Tuning',
  'Vision Language Models',
  'LLM Evaluation',
  'AI Agents',
  'Retrieval-Augmented Generation',
  'Efficiency & Inference',
  'Alignment & Safety',
  'Multimodal Generation',
  'Code & Math',
  'Datasets & Benchmarks',
].map((name) => ({
  name,
  slug: name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, ''),
  description: `Generated category: ${name}.`,
}));

const WORDS =
  `model models language large reasoning reward training fine-tuning reinforcement learning policy agent agents
  benchmark evaluation dataset tokens attention transformer inference latency memory retrieval search tool tools
  vision image video audio speech multimodal alignment preference feedback human safety robustness scaling law
  parameters mixture experts sparse dense distillation quantization pruning context window long chain thought
  math code proof theorem verifier planning memory efficient throughput kernel gpu cluster data synthetic
  curriculum self-play exploration sampling decoding speculative cache compression embedding ranking reranker
  judge critique hallucination factuality grounding instruction tuning supervised rollout trajectory`.split(/\s+/);

const TITLE_HEADS = ['Nova', 'Orion', 'Atlas', 'Helix', 'Quanta', 'Lumen', 'Vega', 'Zephyr', 'Krypton', 'Sable'];

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

function sentence(rand: () => number, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(pick(rand, WORDS));
  const s = out.join(' ');
  return `${s[0]!.toUpperCase()}${s.slice(1)}.`;
}

function addDays(iso: string, days: number): string {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export interface GenerateOptions {
  editions: number;
  papersPerEdition: number;
  /** Monday of the first (oldest) week. */
  firstWeek?: string;
  seed?: number;
  /** Words per summary, min and max. */
  summaryWords?: [number, number];
  categories?: number;
  status?: 'draft' | 'published';
}

/**
 * Fills the database with generated weekly editions (one per week, oldest
 * first), each with its papers spread over up to five categories.
 */
export async function generateArchive(db: Db, options: GenerateOptions): Promise<void> {
  const rand = prng(options.seed ?? 42);
  const cats = GENERATED_CATEGORIES.slice(0, options.categories ?? GENERATED_CATEGORIES.length);
  const ids = await ensureCategories(db, cats);
  const [minWords, maxWords] = options.summaryWords ?? [20, 40];
  const firstWeek = options.firstWeek ?? '2015-01-05';
  for (let e = 0; e < options.editions; e++) {
    const weekStart = addDays(firstWeek, 7 * e);
    const chosen = [...cats].sort(() => rand() - 0.5).slice(0, Math.min(5, cats.length));
    const sections = chosen.map((c) => ({ categoryId: ids.get(c.slug)!, papers: [] as Array<{ title: string; summary: string }> }));
    for (let p = 0; p < options.papersPerEdition; p++) {
      const words = minWords + Math.floor(rand() * (maxWords - minWords + 1));
      sections[p % sections.length]!.papers.push({
        title: `${pick(rand, TITLE_HEADS)}-${e}-${p}: ${sentence(rand, 6).slice(0, -1)}`,
        summary: `${sentence(rand, Math.ceil(words / 2))}\n\n${sentence(rand, Math.floor(words / 2))}`,
      });
    }
    await insertEdition(db, {
      slug: `gen-${weekStart}`,
      title: `Important LLM Papers for the Week of ${weekStart}`,
      subtitle: 'Generated edition',
      weekStart,
      weekEnd: addDays(weekStart, 6),
      intro: sentence(rand, 20),
      outro: '',
      asides: [],
      status: options.status ?? 'published',
      publishedAt: options.status === 'draft' ? null : new Date(`${addDays(weekStart, 7)}T08:00:00Z`),
      sections: sections.filter((s) => s.papers.length > 0),
    });
  }
}

/**
 * A generated edition as the importer reads it (the Markdown export format is
 * rendered from this): `papers` papers over up to five categories, summaries
 * of `summaryWords` words in two or three paragraphs.
 */
export function generateEditionDocument(
  index: number,
  options: { papers: number; firstWeek?: string; seed?: number; summaryWords?: [number, number] },
): import('../newsletter/types.js').EditionDocument {
  const rand = prng((options.seed ?? 1) * 100_003 + index);
  const weekStart = addDays(options.firstWeek ?? '2015-01-05', 7 * index);
  const [minWords, maxWords] = options.summaryWords ?? [150, 250];
  const chosen = [...GENERATED_CATEGORIES].sort(() => rand() - 0.5).slice(0, 5);
  const sections = chosen.map((c, i) => ({ number: i + 1, categoryName: c.name, papers: [] as Array<{ number: string; title: string; summary: string }> }));
  for (let p = 0; p < options.papers; p++) {
    const section = sections[p % sections.length]!;
    const words = minWords + Math.floor(rand() * (maxWords - minWords + 1));
    const paragraphs = [sentence(rand, Math.ceil(words / 3)), sentence(rand, Math.ceil(words / 3)), sentence(rand, Math.floor(words / 3))];
    section.papers.push({
      number: `${section.number}.${section.papers.length + 1}`,
      title: `${pick(rand, TITLE_HEADS)}-${index}-${p}: ${sentence(rand, 6).slice(0, -1)}`,
      summary: paragraphs.join('\n\n'),
    });
  }
  const used = sections.filter((s) => s.papers.length > 0);
  const dm = (iso: string) => `${iso.slice(8, 10)}/${iso.slice(5, 7)}`;
  return {
    title: `Important LLM Papers for the Week From ${dm(weekStart)} to ${dm(addDays(weekStart, 6))}`,
    subtitle: 'Stay Updated with Recent Large Language Models Research',
    intro: `${sentence(rand, 25)}\n\n${sentence(rand, 20)}`,
    tableOfContents: used.map((s) => s.categoryName),
    asides: [],
    weekStart,
    weekEnd: addDays(weekStart, 6),
    sections: used,
    outro: '',
  };
}
