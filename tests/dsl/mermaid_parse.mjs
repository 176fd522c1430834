import { JSDOM } from "jsdom";
const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window; globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
import { readFileSync } from "node:fs";
const text = readFileSync(0, "utf8");
try { const r = await mermaid.parse(text); console.log("ok", JSON.stringify(r)); }
catch (e) { console.log("error", e.message.split("\n").slice(0,4).join(" | ")); process.exit(1); }
