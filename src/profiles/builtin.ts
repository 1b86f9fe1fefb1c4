// The profiles shipped in config/profiles/, embedded in the binary (imported as text at build time).

import dockerModelRunner from "../../config/profiles/docker-model-runner.yaml" with { type: "text" };
import lemonade from "../../config/profiles/lemonade.yaml" with { type: "text" };
import litellm from "../../config/profiles/litellm.yaml" with { type: "text" };
import llamacpp from "../../config/profiles/llamacpp.yaml" with { type: "text" };
import lmStudio from "../../config/profiles/lm-studio.yaml" with { type: "text" };
import lmdeploy from "../../config/profiles/lmdeploy.yaml" with { type: "text" };
import ollama from "../../config/profiles/ollama.yaml" with { type: "text" };
import omlx from "../../config/profiles/omlx.yaml" with { type: "text" };
import openaiCompatible from "../../config/profiles/openai-compatible.yaml" with { type: "text" };
import sglang from "../../config/profiles/sglang.yaml" with { type: "text" };
import vllm from "../../config/profiles/vllm.yaml" with { type: "text" };
import vllmMlx from "../../config/profiles/vllm-mlx.yaml" with { type: "text" };

/** File name → YAML text, in the order profiles are listed. */
export const BUILTIN_PROFILE_FILES: Record<string, string> = {
  "ollama.yaml": ollama,
  "lm-studio.yaml": lmStudio,
  "openai-compatible.yaml": openaiCompatible,
  "vllm.yaml": vllm,
  "vllm-mlx.yaml": vllmMlx,
  "llamacpp.yaml": llamacpp,
  "sglang.yaml": sglang,
  "lmdeploy.yaml": lmdeploy,
  "litellm.yaml": litellm,
  "lemonade.yaml": lemonade,
  "omlx.yaml": omlx,
  "docker-model-runner.yaml": dockerModelRunner,
};
