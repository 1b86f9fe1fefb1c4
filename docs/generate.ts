// `npm run docs`: rewrites docs/configuration.md from the config schema.
import { renderConfigDocs } from "../src/config/docs.ts";

await Bun.write(new URL("./configuration.md", import.meta.url), renderConfigDocs());
console.log("docs/configuration.md written");
