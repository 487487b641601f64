// Writes liveproof.js (ES module) and liveproof.global.js (window.Liveproof) from src/core.js.
// `node build.mjs --check` fails when the committed files differ from what the source gives. No dependencies.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const core = readFileSync(join(here, "src", "core.js"), "utf8");
const banner = "/* Generated from src/core.js by build.mjs: edit the source, then run `node build.mjs`. */\n";
const outputs = {
  "liveproof.js":
    banner + "var SCRIPT_URL = import.meta.url;\n" + core +
    "\nexport { mount, watch, VERSION as version };\nexport default Liveproof;\n",
  "liveproof.global.js":
    banner + "(function () {\n\"use strict\";\nvar SCRIPT_URL = document.currentScript ? document.currentScript.src : \"\";\n" + core +
    "\nwindow.Liveproof = Liveproof;\n})();\n",
};
const check = process.argv.includes("--check");
let stale = [];
for (const [name, text] of Object.entries(outputs)) {
  const path = join(here, name);
  if (check) {
    let current = "";
    try { current = readFileSync(path, "utf8"); } catch { /* missing */ }
    if (current !== text) stale.push(name);
  } else {
    writeFileSync(path, text);
  }
}
if (stale.length) {
  console.error(`stale: ${stale.join(", ")}; run \`node sdk/js/build.mjs\``);
  process.exit(1);
}
