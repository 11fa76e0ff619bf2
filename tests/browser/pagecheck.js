/* Checks run inside a rendered page by tests/browser/pagecheck.py (page.evaluate of each function). */

/* How wide the document is against the viewport, with the elements that stick out. */
function prmwebOverflow() {
  const width = window.innerWidth;
  const culprits = [];
  for (const element of document.querySelectorAll("body *")) {
    const box = element.getBoundingClientRect();
    if (box.right > width + 1 && box.width > 0) {
      culprits.push(describe(element) + " right=" + Math.round(box.right));
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, width, culprits: culprits.slice(0, 8)};
}

function describe(element) {
  const id = element.id ? "#" + element.id : "";
  const names = typeof element.className === "string" ? element.className.trim() : "";
  return element.tagName.toLowerCase() + id + (names ? "." + names.split(/\s+/).join(".") : "");
}

function parseColour(text) {
  const match = /rgba?\(([^)]*)\)/.exec(text || "");
  if (!match) { return null; }
  const parts = match[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
  return {r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1};
}

function over(top, bottom) {
  const a = top.a;
  const mix = (x, y) => x * a + y * (1 - a);
  return {r: mix(top.r, bottom.r), g: mix(top.g, bottom.g), b: mix(top.b, bottom.b), a: 1};
}

function luminance(c) {
  const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
}

function contrastRatio(x, y) {
  const a = luminance(x), b = luminance(y);
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}

function hex(c) {
  return "#" + [c.r, c.g, c.b].map((v) => Math.round(v).toString(16).padStart(2, "0")).join("");
}

/* The page's canvas: the root's or body's background, else the browser's default for the scheme. */
function canvasColour() {
  for (const element of [document.documentElement, document.body]) {
    const colour = parseColour(getComputedStyle(element).backgroundColor);
    if (colour && colour.a === 1) { return colour; }
  }
  const dark = matchMedia("(prefers-color-scheme: dark)").matches;
  return dark ? {r: 18, g: 18, b: 18, a: 1} : {r: 255, g: 255, b: 255, a: 1};
}

/* Every background that may be behind an element: ancestors' colours composited over the canvas,
 * each gradient stop an alternative. */
function backgroundsBehind(element) {
  const layers = [];
  for (let node = element; node && node.nodeType === 1; node = node.parentElement) {
    const style = getComputedStyle(node);
    const colour = parseColour(style.backgroundColor) || {r: 0, g: 0, b: 0, a: 0};
    const image = style.backgroundImage;
    const stops = image && image !== "none" ? (image.match(/rgba?\([^)]*\)/g) || []).map(parseColour) : [];
    if (colour.a > 0 || stops.length) { layers.push({colour, stops}); }
    if (colour.a === 1 && !stops.length) { break; }
  }
  let candidates = [canvasColour()];
  for (const layer of layers.reverse()) {
    let next = candidates.map((c) => layer.colour.a > 0 ? over(layer.colour, c) : c);
    for (const stop of layer.stops) { next = next.concat(next.map((c) => over(stop, c))); }
    candidates = next;
  }
  return candidates;
}

function cumulativeOpacity(element) {
  let value = 1;
  for (let node = element; node && node.nodeType === 1; node = node.parentElement) {
    value *= parseFloat(getComputedStyle(node).opacity);
  }
  return value;
}

function ownText(element) {
  return Array.from(element.childNodes).filter((n) => n.nodeType === 3).map((n) => n.textContent).join("").trim();
}

const SKIPPED_TAGS = ["SCRIPT", "STYLE", "OPTION", "OPTGROUP", "TITLE", "NOSCRIPT"];

function checked(element) {
  if (!ownText(element) || SKIPPED_TAGS.includes(element.tagName)) { return false; }
  if (element.closest(".katex-mathml, :disabled, svg title")) { return false; }
  if (!element.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) { return false; }
  const box = element.getBoundingClientRect();
  return box.width > 0 && box.height > 0;
}

/* Every visible text below `minimum` contrast against what is rendered behind it. */
function prmwebContrast(minimum) {
  const failures = [];
  for (const element of document.querySelectorAll("body *")) {
    if (!checked(element)) { continue; }
    const style = getComputedStyle(element);
    const ink = parseColour(element instanceof SVGElement ? style.fill : style.color);
    const text = ownText(element).slice(0, 60);
    if (!ink) {
      failures.push({text, element: describe(element), ratio: 0, colour: style.color, background: "?"});
      continue;
    }
    const faded = {...ink, a: ink.a * cumulativeOpacity(element)};
    let worst = null;
    for (const background of backgroundsBehind(element)) {
      const value = contrastRatio(over(faded, background), background);
      if (worst === null || value < worst.value) { worst = {value, background}; }
    }
    if (worst.value < minimum) {
      failures.push({text, element: describe(element), ratio: Math.round(worst.value * 100) / 100,
        colour: hex(over(faded, worst.background)), background: hex(worst.background)});
    }
  }
  return failures;
}
