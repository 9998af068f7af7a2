/**
 * The domain vocabulary of search: sets of terms a reader means the same by
 * (an acronym and its spelled-out forms). A query term equal to one of a set
 * (case-insensitive, after collapsing spaces and hyphens) also matches the
 * others: `rl` finds "reinforcement learning", `chain of thought` finds "CoT".
 *
 * Kept by hand and reviewed: add a set only when every term of it means the
 * same in this newsletter's field. Ambiguous acronyms stay out (TTS is both
 * test-time scaling and text-to-speech; SAM, PPL, IR likewise). Plurals that
 * the English stemmer does not join to the singular (`llms`) are sets of their
 * own. tests/search-ranking.test.ts checks the file's shape.
 */
export const SYNONYM_SETS: readonly (readonly string[])[] = [
  ['rl', 'reinforcement learning'],
  ['rlhf', 'reinforcement learning from human feedback'],
  ['rlvr', 'reinforcement learning with verifiable rewards'],
  ['rlaif', 'reinforcement learning from ai feedback'],
  ['cot', 'chain of thought'],
  ['llm', 'large language model'],
  ['llms', 'large language models'],
  ['mllm', 'multimodal large language model'],
  ['mllms', 'multimodal large language models'],
  ['slm', 'small language model'],
  ['slms', 'small language models'],
  ['vlm', 'vision language model'],
  ['vlms', 'vision language models'],
  ['rag', 'retrieval augmented generation'],
  ['moe', 'mixture of experts'],
  ['dpo', 'direct preference optimization'],
  ['grpo', 'group relative policy optimization'],
  ['ppo', 'proximal policy optimization'],
  ['sft', 'supervised fine tuning', 'supervised finetuning'],
  ['lora', 'low rank adaptation'],
  ['prm', 'process reward model'],
  ['prms', 'process reward models'],
  ['orm', 'outcome reward model'],
  ['icl', 'in context learning'],
  ['kv cache', 'key value cache'],
  ['mcts', 'monte carlo tree search'],
  ['vqa', 'visual question answering'],
  ['nlp', 'natural language processing'],
  ['asr', 'automatic speech recognition'],
  ['ocr', 'optical character recognition'],
  ['sae', 'sparse autoencoder'],
  ['saes', 'sparse autoencoders'],
  ['gnn', 'graph neural network'],
  ['gnns', 'graph neural networks'],
];
