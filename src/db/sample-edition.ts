/**
 * Sample edition: "Important LLM Papers for the Week", 2025-05-05 to 2025-05-11.
 *
 * The facts match the real edition: the category order, the exact paper titles
 * and numbers, the dates, and figures quoted from the papers. All summaries, the
 * intro, the aside body, the outro and the category descriptions are original
 * short write-ups for this sample. They are NOT the newsletter's text.
 */

export interface SampleCategory {
  slug: string;
  name: string;
  description: string;
}

export interface SamplePaper {
  number: string;
  title: string;
  summary: string;
  url: string | null;
  arxivId: string | null;
}

export interface SampleSection {
  categorySlug: string;
  papers: SamplePaper[];
}

export interface SampleIssue {
  slug: string;
  title: string;
  subtitle: string;
  weekStart: string;
  weekEnd: string;
  intro: string;
  outro: string;
  asides: { title: string; body: string }[];
  publishedAt: string; // ISO datetime
  sections: SampleSection[]; // in order; section i has number i+1; paper numbers "i+1.j+1"
}

/** Join Markdown blocks with a blank line between them. */
const md = (...blocks: string[]): string => blocks.join('\n\n');

/** Build an arXiv abstract URL, or null when the id is unknown. */
const arxiv = (id: string | null): { arxivId: string | null; url: string | null } => ({
  arxivId: id,
  url: id === null ? null : `https://arxiv.org/abs/${id}`,
});

export const sampleCategories: SampleCategory[] = [
  {
    slug: 'llm-progress-technical-reports',
    name: 'LLM Progress & Technical Reports',
    description: 'New models, benchmarks and systems that push the state of large language models forward.',
  },
  {
    slug: 'llm-reasoning',
    name: 'LLM Reasoning',
    description: 'Work on how language models plan, think step by step, call tools and crack hard problems.',
  },
  {
    slug: 'llm-training-fine-tuning',
    name: 'LLM Training & Fine-Tuning',
    description: 'Methods and infrastructure for training, aligning and efficiently serving models.',
  },
  {
    slug: 'vision-language-models',
    name: 'Vision Language Models',
    description: 'Models and benchmarks that combine images and other modalities with language.',
  },
  {
    slug: 'llm-evaluation',
    name: 'LLM Evaluation',
    description: 'Fresh ways to measure what language models can and cannot do.',
  },
];

export const sampleIssue: SampleIssue = {
  slug: '2025-05-05',
  title: 'Important LLM Papers for the Week From 05/05 to 11/05',
  subtitle: 'Stay Updated with Recent Large Language Models Research',
  weekStart: '2025-05-05',
  weekEnd: '2025-05-11',
  publishedAt: '2025-05-12T08:00:00.000Z',
  intro: md(
    `This sample edition rounds up notable language model papers that appeared in the first week of May 2025, touching on voice agents, formal math, new reinforcement learning recipes, multimodal systems and evaluation.`,
    `Each entry offers a quick, plain-language take on what the paper does and why it deserves a look, with an arXiv link wherever one is available.`,
  ),
  asides: [
    {
      title: 'My New E-Book: LLM Roadmap from Beginner to Advanced Level',
      body: 'A new e-book is out that lays out a step-by-step learning path for LLMs, from first principles to advanced topics.',
    },
  ],
  outro: md(
    `If you would like personal guidance as you move into data science and AI, you are welcome to book a one-off mentoring session or sign up for longer-term career mentoring.`,
    `Mentoring sessions: https://lnkd.in/dXeg3KPW`,
    `Long-term mentoring: https://lnkd.in/dtdUYBrM`,
  ),
  sections: [
    {
      categorySlug: 'llm-progress-technical-reports',
      papers: [
        {
          number: '1.1',
          title:
            'Voila: Voice-Language Foundation Models for Real-Time Autonomous Interaction and Voice Role-Play',
          summary: md(
            `Voila is an open family of voice-language foundation models that swaps the usual speech-recognition, LLM and TTS chain for one end-to-end system. It can listen and talk at the same time and replies in roughly 195 ms, quicker than a typical person.`,
            `Highlights:\n- Persona control through plain text instructions describing the voice\n- Over a million ready-made voices, plus cloning from a 10-second clip\n- A single model that also handles ASR, TTS and speech translation`,
          ),
          ...arxiv('2505.02707'),
        },
        {
          number: '1.2',
          title: 'FormalMATH: Benchmarking Formal Mathematical Reasoning of Large Language Models',
          summary: md(
            `FormalMATH is a Lean4 benchmark of 5,560 machine-checked problems, ranging from Olympiad exercises to undergraduate theorems in algebra, calculus, number theory and more. LLMs translate, cross-check and try to refute each statement before human experts review what remains, and 72.09% of candidates survive the automated stage.`,
            `Today's provers find it hard: the best one solves just 16.46% on a realistic sampling budget, doing far better on algebra than on calculus. Oddly, giving them informal written solutions tends to hurt rather than help.`,
          ),
          ...arxiv('2505.02735'),
        },
        {
          number: '1.3',
          title: 'ZeroSearch: Incentivize the Search Capability of LLMs without Searching',
          summary: md(
            `RL against a live search engine is costly (endless API calls) and noisy (uneven result quality). ZeroSearch avoids both by fine-tuning an LLM to act as the engine, producing useful or deliberately misleading documents on request.`,
            `As training proceeds, the simulated results get steadily worse, so the policy must reason harder. A 3B simulator already works, a 7B one matches a live engine and a 14B one beats it; the recipe carries over across model sizes and RL algorithms.`,
          ),
          ...arxiv('2505.04588'),
        },
      ],
    },
    {
      categorySlug: 'llm-reasoning',
      papers: [
        {
          number: '2.1',
          title: 'Absolute Zero: Reinforced Self-play Reasoning with Zero Data',
          summary: md(
            `Even the so-called zero RLVR methods still rely on human-curated question and answer sets. Absolute Zero removes that dependency: a single model invents its own tasks, picked to maximize its learning, and then tries to solve them.`,
            `The resulting Absolute Zero Reasoner (AZR) uses a code executor both to check that proposed tasks are valid and to grade the answers. With no outside data at all, it reaches state-of-the-art coding and math results, ahead of models trained on large curated datasets, and it works across model sizes and families.`,
          ),
          ...arxiv('2505.03335'),
        },
        {
          number: '2.2',
          title: 'Perception, Reason, Think, and Plan: A Survey on Large Multimodal Reasoning Models',
          summary: md(
            `This survey follows the development of LMRMs, short for large multimodal reasoning models, sorting the literature into a four-stage roadmap. It runs from modular, perception-first pipelines to multimodal LLMs that reason with multimodal chain-of-thought and RL.`,
            `Drawing on benchmark results and case studies of OpenAI o3 and o4-mini, the authors point to open problems in generalizing across every modality, reasoning depth and agentic behavior, and they make the case for native LMRMs designed for planning in the real world.`,
          ),
          ...arxiv('2505.04921'),
        },
        {
          number: '2.3',
          title: 'RM-R1: Reward Modeling as Reasoning',
          summary: md(
            `RM-R1 treats reward modeling as a reasoning problem. Rather than emitting a bare score, these Reasoning Reward Models (ReasRMs) first write their own rubrics or a reference solution, then grade candidate answers against them, so their verdicts are easy to inspect.`,
            `On several reward-model benchmarks they match or beat much larger judges such as Llama3.1-405B and GPT-4o, by as much as 13.8%. Training has two stages:\n- Distilling high-quality reasoning traces\n- RL with verifiable rewards`,
          ),
          ...arxiv('2505.02387'),
        },
        {
          number: '2.4',
          title: 'Llama-Nemotron: Efficient Reasoning Models',
          summary: md(
            `NVIDIA's Llama-Nemotron family comes in Nano (8B), Super (49B) and Ultra (253B) sizes and competes with DeepSeek-R1 on reasoning while running faster and using less memory. The models are derived from Llama 3 with neural architecture search, then distilled, further pretrained and post-trained with SFT and large-scale RL.`,
            `They are the first open models where reasoning can be switched on or off at inference time. Released under a commercially friendly license:\n- LN-Nano, LN-Super and LN-Ultra weights\n- The complete post-training dataset\n- Training code (NeMo, NeMo-Aligner, Megatron-LM)`,
          ),
          ...arxiv('2505.00949'),
        },
        {
          number: '2.5',
          title:
            'Grokking in the Wild: Data Augmentation for Real-World Multi-Hop Reasoning with Transformers',
          summary: md(
            `Grokking, the abrupt shift from memorizing to generalizing, had mainly been shown on toy tasks. This paper brings it to real factual data by adding synthetic facts to knowledge graphs until the ratio of inferred to atomic facts (phi_r) passes the level grokking needs.`,
            `Surprisingly, even false synthetic facts help, as they steer the model toward relational structure instead of rote recall. The method scores 95–100% on 2WikiMultiHopQA, and the authors study how a higher phi_r shapes the circuits that generalize.`,
          ),
          ...arxiv('2504.20752'),
        },
        {
          number: '2.6',
          title: 'Agentic Reasoning and Tool Integration for LLMs via Reinforcement Learning',
          summary: md(
            `ARTIST is a framework that teaches LLMs to mix thinking with tool calls over several turns, choosing on their own whether a tool is needed and which one. It learns only from outcome-based RL rewards, with no step-by-step labels.`,
            `On math and multi-turn function-calling benchmarks it outperforms strong baselines and gains up to 22 absolute points over the base models. The biggest improvements come on the hardest problems, together with clearly better tool use.`,
          ),
          ...arxiv('2505.01441'),
        },
      ],
    },
    {
      categorySlug: 'llm-training-fine-tuning',
      papers: [
        {
          number: '3.1',
          title: 'Flow-GRPO: Training Flow Matching Models via Online RL',
          summary: md(
            `Flow-GRPO is the first method to bring online RL to flow matching image generators. Two tricks make it work:\n- Converting the deterministic ODE sampler into an SDE with identical marginals, which gives the policy room to explore\n- Training with fewer denoising steps while keeping the full count at inference`,
            `On SD3.5, GenEval accuracy climbs from 63% to 95% and visual text rendering from 59% to 92%, and human-preference alignment improves too. Image quality and diversity hold steady, so there is little sign of reward hacking.`,
          ),
          ...arxiv('2505.05470'),
        },
        {
          number: '3.2',
          title: 'Unified Multimodal Chain-of-Thought Reward Model through Reinforcement Fine-Tuning',
          summary: md(
            `UnifiedReward-Think is a multimodal reward model that reasons through a long chain of thought before it judges, for both visual understanding and visual generation. The authors argue that explicit reasoning makes reward signals more trustworthy and even sharpens the model's direct answers.`,
            `Training runs in three steps:\n- A cold start on a small set of reasoning traces distilled from GPT-4o\n- Rejection sampling on large unified preference data, keeping correct outputs\n- GRPO on the failed cases to explore better reasoning paths`,
          ),
          ...arxiv('2505.03318'),
        },
        {
          number: '3.3',
          title:
            'A Survey on Inference Engines for Large Language Models: Perspectives on Optimization and Efficiency',
          summary: md(
            `Reasoning chains and agents call a model many times over, so serving cost keeps growing. This survey compares 25 open-source and commercial LLM inference engines on usability, deployment effort, breadth of model support, scalability, and fit for throughput- or latency-focused workloads.`,
            `It also lists the optimizations each engine offers, such as parallelism, compression and caching, judges the maturity of open-source ecosystems and the pricing of commercial services, and names future needs like broader hardware support and better security.`,
          ),
          ...arxiv('2505.01658'),
        },
      ],
    },
    {
      categorySlug: 'vision-language-models',
      papers: [
        {
          number: '4.1',
          title:
            'Unified Multimodal Understanding and Generation Models: Advances, Challenges, and Opportunities',
          summary: md(
            `Autoregressive models have led multimodal understanding while diffusion has led image generation, yet systems like GPT-4o show rising interest in merging the two. This survey charts that effort and sorts unified models into diffusion-based, autoregressive and hybrid designs.`,
            `It walks through the architectures in each group, gathers relevant datasets and benchmarks, and flags open questions around tokenization, cross-modal attention and training data. The authors plan to keep it updated.`,
          ),
          ...arxiv('2505.02567'),
        },
        {
          number: '4.2',
          title: 'On Path to Multimodal Generalist: General-Level and General-Bench',
          summary: md(
            `Does scoring well on lots of tasks make a multimodal LLM a real generalist? General-Level says not necessarily, and proposes a five-level scale built around synergy: whether abilities transfer between understanding and generation and across modalities.`,
            `The companion General-Bench spans more than 700 tasks and 325,800 instances. Testing over 100 leading MLLMs shows how rankings shift under this lens and how far today's systems remain from genuine general intelligence.`,
          ),
          ...arxiv('2505.04620'),
        },
      ],
    },
    {
      categorySlug: 'llm-evaluation',
      papers: [
        {
          number: '5.1',
          title:
            'Sentient Agent as a Judge: Evaluating Higher-Order Social Cognition in Large Language Models',
          summary: md(
            `SAGE (Sentient Agent as a Judge) checks whether an LLM understands people, not just their words. A simulated agent chats with the model over many turns, updating its own feelings and private thoughts before each reply, which produces a numeric emotion curve.`,
            `Across 100 supportive-conversation scenarios, the final emotion score lines up closely with BLRI ratings and empathy metrics. A public leaderboard of 18 models shows that leading models such as GPT-4o-Latest and Gemini2.5-Pro score as much as 4x higher than older ones, which Arena-style rankings miss.`,
          ),
          ...arxiv('2505.02847'),
        },
      ],
    },
  ],
};
