/** Facts of the real edition in ../shared/newsletter (numbers and exact titles), shared by the tests that read it. */
export const REAL_TITLES: [string, string][] = [
  ['1.1', 'Voila: Voice-Language Foundation Models for Real-Time Autonomous Interaction and Voice Role-Play'],
  ['1.2', 'FormalMATH: Benchmarking Formal Mathematical Reasoning of Large Language Models'],
  ['1.3', 'ZeroSearch: Incentivize the Search Capability of LLMs without Searching'],
  ['2.1', 'Absolute Zero: Reinforced Self-play Reasoning with Zero Data'],
  ['2.2', 'Perception, Reason, Think, and Plan: A Survey on Large Multimodal Reasoning Models'],
  ['2.3', 'RM-R1: Reward Modeling as Reasoning'],
  ['2.4', 'Llama-Nemotron: Efficient Reasoning Models'],
  ['2.5', 'Grokking in the Wild: Data Augmentation for Real-World Multi-Hop Reasoning with Transformers'],
  ['2.6', 'Agentic Reasoning and Tool Integration for LLMs via Reinforcement Learning'],
  ['3.1', 'Flow-GRPO: Training Flow Matching Models via Online RL'],
  ['3.2', 'Unified Multimodal Chain-of-Thought Reward Model through Reinforcement Fine-Tuning'],
  ['3.3', 'A Survey on Inference Engines for Large Language Models: Perspectives on Optimization and Efficiency'],
  ['4.1', 'Unified Multimodal Understanding and Generation Models: Advances, Challenges, and Opportunities'],
  ['4.2', 'On Path to Multimodal Generalist: General-Level and General-Bench'],
  ['5.1', 'Sentient Agent as a Judge: Evaluating Higher-Order Social Cognition in Large Language Models'],
];
