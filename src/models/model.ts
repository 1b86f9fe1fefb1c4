// One shape for a model as any platform lists it: what discovery keeps per endpoint and what the
// catalogue, routing and the list renderers read.

export type ModelCapability = "chat" | "completion" | "embeddings" | "vision" | "tools";

export interface DiscoveredModel {
  /** The name exactly as the endpoint lists it (requests must use it). */
  name: string;
  digest?: string;
  sizeBytes?: number;
  family?: string;
  families?: string[];
  /** e.g. "3.2B" */
  parameterSize?: string;
  /** e.g. "Q4_K_M" */
  quantization?: string;
  /** e.g. "gguf" */
  format?: string;
  /** vLLM max_model_len, LM Studio max_context_length, llama.cpp n_ctx_train... */
  contextLength?: number;
  /** Only when the platform states it (LM Studio); capabilities carry the inferred kind. */
  type?: "llm" | "vlm" | "embeddings";
  /** Best knowledge; [] when nothing is known. */
  capabilities: ModelCapability[];
  publisher?: string;
  /** Loaded in memory right now, when the platform says (LM Studio state, Ollama /api/ps). */
  loaded?: boolean;
  /** ISO date when given. */
  modifiedAt?: string;
}
