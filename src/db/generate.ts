import type { Db } from './client.js';
import { ensureCategories, insertIssueContent } from './queries/issue-content.js';

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
  papersPerIssue: number;
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
    for (let p = 0; p < options.papersPerIssue; p++) {
      const words = minWords + Math.floor(rand() * (maxWords - minWords + 1));
      sections[p % sections.length]!.papers.push({
        title: `${pick(rand, TITLE_HEADS)}-${e}-${p}: ${sentence(rand, 6).slice(0, -1)}`,
        summary: `${sentence(rand, Math.ceil(words / 2))}\n\n${sentence(rand, Math.floor(words / 2))}`,
      });
    }
    await insertIssueContent(db, {
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
export function generateIssueDocument(
  index: number,
  options: { papers: number; firstWeek?: string; seed?: number; summaryWords?: [number, number] },
): import('../newsletter/types.js').IssueDocument {
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

// ---------------------------------------------------------------------------
// Benchmark archives: realistic text with realistic search selectivity.
// ---------------------------------------------------------------------------

/**
 * Words of LLM-research prose, most frequent first. Words are drawn with a
 * Zipf-like law (probability ∝ 1 / rank), so "model" is in nearly every
 * summary, "reward" in a good share of them, and the words at the end of the
 * list in few.
 */
export const BENCH_WORDS = `model language models large training data reasoning performance learning tasks
  results approach method benchmark evaluation fine-tuning inference policy agent training-free tokens
  reinforcement generation quality accuracy datasets attention transformer context alignment prompts prompt
  responses human preference feedback instruction tuning dataset scaling parameters efficient compute memory
  retrieval search tool agents multimodal vision image video audio speech safety robustness reasoning-intensive
  math code problems solutions verifier verification planning exploration sampling decoding speculative cache
  kv-cache compression quantization pruning distillation sparse dense mixture experts routing router
  long-context window chain thought self-consistency reflection critique judge judges hallucination factuality
  grounding supervised rollout rollouts trajectory trajectories curriculum self-play synthetic annotation labels
  latency throughput kernel kernels gpu gpus cluster serving batch batching pipeline parallelism tensor
  embedding embeddings ranking reranker retriever documents corpus knowledge graph graphs question answering
  summarization translation multilingual low-resource tokenizer tokenization vocabulary pretraining pre-training
  post-training mid-training objective loss gradient optimizer optimization stability convergence regularization
  overfitting generalization out-of-distribution adversarial jailbreak red-teaming refusal harmful toxicity bias
  fairness interpretability probing circuits neurons features steering activation activations representation
  representations latent diffusion autoregressive masked denoising flow matching scheduler noise
  simulation environment environments web browser gui computer-use api apis function calling memory-augmented
  episodic workflow workflows orchestration multi-agent collaboration debate negotiation game games theorem proof
  proofs lean formal symbolic arithmetic geometry algebra olympiad competition leaderboard contamination leakage
  reproducibility reward ablation ablations baseline baselines state-of-the-art open-source open-weight proprietary
  frontier checkpoint checkpoints scaling-law laws emergent capabilities calibration uncertainty confidence
  estimation entropy perplexity likelihood sampling-based beam nucleus temperature length verbosity
  conciseness efficiency budget adaptive dynamic early-exit layer layers depth width heads head
  positional encoding rotary extrapolation interpolation retrieval-augmented rag chunking indexing citation
  citations attribution watermarking privacy membership unlearning memorization copyright licensing`.split(/\s+/);

/** Multi-word terms, inserted as phrases (also Zipf-like: the first ones are frequent). */
export const BENCH_PHRASES = [
  'large language model',
  'reinforcement learning',
  'chain of thought',
  'test-time compute',
  'mixture of experts',
  'reward model',
  'direct preference optimization',
  'process reward model',
  'vision language model',
  'retrieval augmented generation',
  'long context',
  'in-context learning',
  'supervised fine-tuning',
  'knowledge distillation',
  'speculative decoding',
  'tree of thoughts',
  'group relative policy optimization',
  'monte carlo tree search',
  'sparse autoencoder',
  'constitutional ai',
];

/** Model families named in titles (typo-tolerant search looks for these). */
export const BENCH_MODEL_NAMES = [
  'Llama-Nemotron', 'Qwen2.5', 'Qwen3', 'DeepSeek-R1', 'DeepSeek-V3', 'Mistral', 'Mixtral', 'Gemma', 'Phi-4',
  'Llama-3', 'Claude', 'GPT-4o', 'Falcon', 'OLMo', 'Pythia', 'Kimi', 'GLM-4', 'InternLM', 'Yi', 'MiniCPM',
];

/** Terms so rare that each is in a few dozen papers per million. */
export const BENCH_RARE_TERMS = Array.from({ length: 400 }, (_, i) => {
  const syllables = ['zor', 'vex', 'qua', 'lin', 'thar', 'mox', 'bri', 'gund', 'pel', 'cryo', 'nath', 'ulm', 'fid', 'ros', 'kep', 'wim'];
  return `${syllables[i % 16]}${syllables[(i >> 4) % 16]}${syllables[(i * 7 + 3) % 16]}ic`;
});

const STOP = ['the', 'of', 'and', 'a', 'to', 'in', 'for', 'with', 'on', 'we', 'that', 'is', 'by', 'this', 'our', 'from', 'as', 'are'];

/** Cumulative Zipf weights over `n` ranks (probability ∝ 1 / rank^s). */
function zipfTable(n: number, s: number): Float64Array {
  const cum = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += 1 / (i + 1) ** s;
    cum[i] = total;
  }
  for (let i = 0; i < n; i++) cum[i]! /= total;
  return cum;
}

function zipfPick(rand: () => number, cum: Float64Array): number {
  const x = rand();
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const WORD_CUM = zipfTable(BENCH_WORDS.length, 1.3);
const PHRASE_CUM = zipfTable(BENCH_PHRASES.length, 1.5);

/** A summary of `words` words (± a phrase): stop words, Zipf-drawn words, a few phrases, maybe a rare term. */
export function benchSummary(rand: () => number, words: number): string {
  const out: string[] = [];
  let sentenceStart = true;
  while (out.length < words) {
    const r = rand();
    let w: string;
    if (r < 0.3) w = STOP[Math.floor(rand() * STOP.length)]!;
    else if (r < 0.31) w = BENCH_PHRASES[zipfPick(rand, PHRASE_CUM)]!;
    else if (r < 0.3104) w = BENCH_RARE_TERMS[Math.floor(rand() * BENCH_RARE_TERMS.length)]!;
    else w = BENCH_WORDS[zipfPick(rand, WORD_CUM)]!;
    if (sentenceStart) w = `${w[0]!.toUpperCase()}${w.slice(1)}`;
    sentenceStart = rand() < 0.06;
    out.push(sentenceStart ? `${w}.` : w);
    if (sentenceStart && rand() < 0.25) out.push('\n\n');
  }
  const text = out.join(' ').replace(/ \n\n /g, '\n\n').trim();
  return text.endsWith('.') ? text : `${text}.`;
}

/** A title: sometimes "Name: …", often with a model family in it. */
export function benchTitle(rand: () => number, serial: number): string {
  const parts: string[] = [];
  const n = 4 + Math.floor(rand() * 6);
  for (let i = 0; i < n; i++) {
    const r = rand();
    parts.push(r < 0.15 ? BENCH_PHRASES[zipfPick(rand, PHRASE_CUM)]! : BENCH_WORDS[zipfPick(rand, WORD_CUM)]!);
  }
  const body = parts.map((w) => `${w[0]!.toUpperCase()}${w.slice(1)}`).join(' ');
  const r = rand();
  if (r < 0.25) return `${BENCH_MODEL_NAMES[Math.floor(rand() * BENCH_MODEL_NAMES.length)]}: ${body}`;
  if (r < 0.55) return `${pick(rand, TITLE_HEADS)}-${serial % 1000}: ${body}`;
  return body;
}

export { addDays as addDaysIso };
