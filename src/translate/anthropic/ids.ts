// Identifiers in Anthropic's style (msg_01…, toolu_01…): some clients log or key on the prefix.
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function randomSuffix(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = "";
  // 256 % 62 bias is irrelevant for ids that only need to be unique.
  for (const byte of bytes) out += ALPHABET[byte % 62];
  return out;
}

export const messageId = (): string => `msg_01${randomSuffix(22)}`;
export const toolUseId = (): string => `toolu_01${randomSuffix(22)}`;
