// ACTIO SMS: the "SMS" sidebar panel (panel_custom module, element <actio-sms-panel>).
//
// One plain ES module, no build step, no dependencies. Home Assistant creates
// the element and sets `hass`, `narrow`, `route` and `panel` on it; `hass` is
// set again on every state change in HA, so the setter only compares a few
// fields and never fetches. Data comes from the integration's WebSocket
// commands (actio_sms/entries, conversations, messages, subscribe, mark_read,
// delete_conversation, webhook_url); sending goes through the
// actio_sms.send_message action, the same path as every other send.

const PAGE_SIZE = 50;
const UCS2_PART_LENGTH = 60;
const GSM7_MAX_LENGTH = 160;
const DEFAULT_MAX_PARTS = 10;
const NARROW_WIDTH = 600;
const LANGUAGES = ["en", "pl"];
const STORAGE_ENTRY = "actio_sms.panel.entry";
const NEW_DRAFT = "\u0000new";

// The integration's GSM-7 alphabet (phone.py): basic set, and the extension
// table whose characters cost two septets (escape + character).
const GSM7_BASIC = new Set(
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà",
);
const GSM7_EXTENDED = new Set("^{}\\[~]|€\f");

/**
 * SMS length and parts under the integration's rules.
 * UCS-2: parts = max(1, ceil(UTF-16 units / 60)). GSM-7: one part of at most
 * 160 septets; extension characters count 2; others cannot be sent.
 */
export function countSms(text, encoding = "ucs2", maxParts = DEFAULT_MAX_PARTS) {
  const body = typeof text === "string" ? text : String(text ?? "");
  const max = Number.isFinite(maxParts) && maxParts > 0 ? maxParts : DEFAULT_MAX_PARTS;
  if (encoding === "gsm7") {
    let units = 0;
    const unsupported = [];
    for (const ch of body) {
      if (GSM7_EXTENDED.has(ch)) units += 2;
      else {
        units += 1;
        if (!GSM7_BASIC.has(ch) && !unsupported.includes(ch)) unsupported.push(ch);
      }
    }
    let error = null;
    if (unsupported.length) error = "unsupported";
    else if (units > GSM7_MAX_LENGTH) error = "gsm7_long";
    else if (1 > max) error = "too_many_parts";
    return {
      encoding: "gsm7", units, limit: GSM7_MAX_LENGTH, parts: 1, max, error,
      unsupported: unsupported.join(""),
    };
  }
  const units = body.length; // UTF-16 code units: beyond the BMP counts 2
  const parts = Math.max(1, Math.ceil(units / UCS2_PART_LENGTH));
  return {
    encoding: "ucs2", units, limit: UCS2_PART_LENGTH, parts, max,
    error: parts > max ? "too_many_parts" : null, unsupported: "",
  };
}

// ---------------------------------------------------------------- helpers

const ICONS = {
  menu: "M4 6h16M4 12h16M4 18h16",
  back: "M20 12H5M11 5l-7 7 7 7",
  plus: "M12 5v14M5 12h14",
  send: "M4 19.5 20.5 12 4 4.5l1.8 7.5zM5.8 12H12",
  trash: "M4 7h16M9.5 7V4.5h5V7M6.5 7l.9 12.5h9.2L17.5 7M10 11v5.5M14 11v5.5",
  info: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM12 11v6M12 7.5v.01",
  copy: "M9 9h10v11H9zM5 15V4h10",
  search: "M10.5 17a6.5 6.5 0 1 0 0-13 6.5 6.5 0 0 0 0 13zM20 20l-4.8-4.8",
  check: "M5 12.5l4.5 4.5L19 7.5",
  checks: "M2 12.5l4.5 4.5L16 7.5M11 16l1 1 9.5-9.5",
  clock: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM12 7v5l3.5 2",
  alert: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM12 7.5v6M12 16.5v.01",
  question: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM9.6 9.5a2.5 2.5 0 1 1 3.4 2.3c-.6.3-1 .8-1 1.5v.4M12 16.8v.01",
  cross: "M6.5 6.5l11 11M17.5 6.5l-11 11",
  down: "M12 5v14M5 12l7 7 7-7",
};

const SVG_NS = "http://www.w3.org/2000/svg";

function icon(name) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.classList.add("icon");
  const path = document.createElementNS(SVG_NS, "path");
  path.setAttribute("d", ICONS[name] || "");
  svg.append(path);
  return svg;
}

/** Create an element: h("button", {class: "x", onclick}, "text", child). */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith("on") && typeof value === "function") {
        el.addEventListener(key.slice(2), value);
      } else if (key === "class") el.className = value;
      else if (key === "text") el.textContent = value;
      else if (key in el && typeof value !== "string") el[key] = value;
      else el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

function str(value) {
  return typeof value === "string" ? value : value === undefined || value === null ? "" : String(value);
}

function errorText(err) {
  if (!err) return "";
  if (typeof err === "string") return err;
  if (typeof err.message === "string" && err.message) return err.message;
  if (typeof err.error === "string") return err.error;
  if (typeof err.code === "string") return err.code;
  return String(err);
}

function isPhoneNumber(number) {
  return /^\+?\d{3,}$/.test(str(number));
}

function messageKey(msg) {
  return str(msg.id) || str(msg.message_id) || `${str(msg.at)}|${str(msg.direction)}|${str(msg.body)}`;
}

function parseDate(value) {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

// Translations: one fetch per language for every instance of the panel.
const STRINGS = new Map();
function loadStrings(lang) {
  if (!STRINGS.has(lang)) {
    // Beside the module, with its query (the integration's cache-busting version).
    const url = new URL(`./translations/${lang}.json`, import.meta.url);
    url.search = new URL(import.meta.url).search;
    STRINGS.set(
      lang,
      fetch(url)
        .then((resp) => (resp.ok ? resp.json() : {}))
        .then((data) => (data && typeof data === "object" ? data : {}))
        .catch(() => ({})),
    );
  }
  return STRINGS.get(lang);
}

// ---------------------------------------------------------------- styles

const STYLE = `
/* HA's ha-panel-custom gives its child no height (it pads itself by the safe
   areas, as for an embedded panel's 100vh iframe): take the viewport's. */
:host {
  display: block;
  height: calc(100vh - var(--safe-area-inset-top, 0px) - var(--safe-area-inset-bottom, 0px));
  color-scheme: light;
  --sms-radius: var(--ha-card-border-radius, 12px);
  --sms-header-height: var(--header-height, 56px);
  --sms-accent-rgb: var(--rgb-primary-color, 3, 169, 244);
  font-family: var(--ha-font-family-body, var(--mdc-typography-font-family, Roboto, "Noto Sans", system-ui, sans-serif));
  font-size: 14px;
  color: var(--primary-text-color, #212121);
  background: var(--primary-background-color, #fafafa);
  -webkit-font-smoothing: antialiased;
}
@supports (height: 100dvh) {
  :host { height: calc(100dvh - var(--safe-area-inset-top, 0px) - var(--safe-area-inset-bottom, 0px)); }
}
:host([dark]) { color-scheme: dark; }
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
.sr-only {
  position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
button, input, select, textarea { font: inherit; color: inherit; }
:focus-visible { outline: 2px solid var(--primary-color, #03a9f4); outline-offset: 2px; }
.icon { width: 24px; height: 24px; flex: none; fill: none; stroke: currentColor;
  stroke-width: 2; stroke-linecap: round; stroke-linejoin: round; }

.app { display: flex; flex-direction: column; height: 100%; min-height: 0; position: relative; }
.toolbar {
  display: flex; align-items: center; gap: 4px; flex: none;
  height: var(--sms-header-height); padding: 0 8px 0 12px;
  background: var(--app-header-background-color, var(--primary-color, #03a9f4));
  color: var(--app-header-text-color, var(--text-primary-color, #fff));
  border-bottom: var(--app-header-border-bottom, none);
}
.toolbar h1 { margin: 0 8px; font-size: 20px; font-weight: 400; flex: 1 0 auto;
  white-space: nowrap; }
.icon-button {
  display: inline-flex; align-items: center; justify-content: center; flex: none;
  width: 40px; height: 40px; border: 0; border-radius: 50%; padding: 0;
  background: transparent; color: inherit; cursor: pointer;
}
.icon-button:hover { background: rgba(127, 127, 127, 0.16); }
.toolbar select {
  flex: 0 1 auto; max-width: 260px; min-width: 64px; height: 36px; padding: 0 8px; border-radius: 8px;
  border: 1px solid currentColor; background: transparent; color: inherit;
}
.toolbar select option { color: var(--primary-text-color, #212121); background: var(--card-background-color, #fff); }
.banner {
  flex: none; padding: 8px 16px; font-size: 13px;
  background: rgba(var(--rgb-warning-color, 255, 166, 0), 0.18);
  color: var(--primary-text-color, #212121);
  border-bottom: 1px solid var(--divider-color, rgba(0, 0, 0, 0.12));
}
.body { flex: 1; display: flex; min-height: 0; }

/* left pane */
.list-pane {
  width: 360px; max-width: 42%; min-width: 260px; flex: none;
  display: flex; flex-direction: column; min-height: 0;
  background: var(--card-background-color, #fff);
  border-right: 1px solid var(--divider-color, rgba(0, 0, 0, 0.12));
}
.list-tools { display: flex; gap: 8px; padding: 12px; flex: none; align-items: center; }
.search-box { position: relative; flex: 1; min-width: 0; }
.search-box .icon { position: absolute; left: 10px; top: 50%; transform: translateY(-50%);
  width: 18px; height: 18px; color: var(--secondary-text-color, #727272); pointer-events: none; }
.search {
  width: 100%; height: 40px; padding: 0 12px 0 36px; border-radius: 20px;
  border: 1px solid var(--divider-color, rgba(0, 0, 0, 0.12));
  background: var(--secondary-background-color, #e5e5e5);
  color: var(--primary-text-color, #212121);
}
.search::placeholder, textarea::placeholder, .to-input::placeholder { color: var(--secondary-text-color, #727272); opacity: 1; }
.button {
  display: inline-flex; align-items: center; gap: 6px; height: 40px; padding: 0 14px;
  border-radius: 20px; border: 0; cursor: pointer; white-space: nowrap; font-weight: 500;
  background: var(--primary-color, #03a9f4); color: var(--text-primary-color, #fff);
}
.button .icon { width: 20px; height: 20px; }
.button.flat { background: transparent; color: var(--primary-color, #03a9f4);
  border: 1px solid var(--divider-color, rgba(0, 0, 0, 0.12)); }
.button.danger { background: var(--error-color, #db4437); color: #fff; }
.button:disabled { opacity: 0.5; cursor: default; }
.list-status { padding: 8px 16px; color: var(--secondary-text-color, #727272); }
.list-status:empty { display: none; }
.conversations { list-style: none; margin: 0; padding: 0 0 8px; overflow-y: auto; flex: 1; min-height: 0; position: relative; }
.conversations:empty { display: none; }
.empty-slot { flex: 1; min-height: 0; overflow-y: auto; display: flex; }
.conv {
  display: flex; gap: 12px; width: 100%; align-items: center; text-align: left;
  padding: 10px 16px; border: 0; background: transparent; cursor: pointer;
  color: var(--primary-text-color, #212121);
}
.conv:hover { background: rgba(var(--rgb-primary-text-color, 33, 33, 33), 0.05); }
.conv[aria-current="true"] { background: rgba(var(--sms-accent-rgb), 0.14); }
.conv[aria-current="true"] .conv-preview, .conv[aria-current="true"] .conv-time { color: var(--primary-text-color, #212121); }
.conv:focus-visible { outline-offset: -2px; }
.avatar {
  width: 40px; height: 40px; border-radius: 50%; flex: none;
  display: inline-flex; align-items: center; justify-content: center;
  background: rgba(var(--sms-accent-rgb), 0.2); color: var(--primary-text-color, #212121);
  font-weight: 500; font-size: 16px;
}
.conv-main { flex: 1; min-width: 0; display: flex; flex-direction: column; gap: 2px; }
.conv-top, .conv-bottom { display: flex; align-items: baseline; gap: 8px; min-width: 0; }
.conv-name { flex: 1; min-width: 0; font-weight: 500; font-size: 15px;
  overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.conv-time { flex: none; font-size: 12px; color: var(--secondary-text-color, #727272); }
.conv-preview { flex: 1; min-width: 0; color: var(--secondary-text-color, #727272);
  overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.conv.unread .conv-name, .conv.unread .conv-preview { font-weight: 600; color: var(--primary-text-color, #212121); }
.badge {
  flex: none; min-width: 20px; height: 20px; padding: 0 6px; border-radius: 10px;
  background: var(--primary-color, #03a9f4); color: var(--text-primary-color, #fff);
  font-size: 12px; font-weight: 600; line-height: 20px; text-align: center;
}

/* right pane */
.conv-pane { flex: 1; min-width: 0; display: flex; flex-direction: column; min-height: 0;
  background: var(--primary-background-color, #fafafa); position: relative; }
.conv-header {
  display: flex; align-items: center; gap: 8px; flex: none; min-height: 56px; padding: 6px 8px 6px 16px;
  background: var(--card-background-color, #fff);
  border-bottom: 1px solid var(--divider-color, rgba(0, 0, 0, 0.12));
}
.conv-title { flex: 1; min-width: 0; display: flex; flex-direction: column; }
.conv-title h2 { margin: 0; font-size: 16px; font-weight: 500;
  overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.conv-title h2:focus { outline: none; }
.conv-title .sub { font-size: 12px; color: var(--secondary-text-color, #727272);
  overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.to-row { flex: 1; display: flex; align-items: center; gap: 8px; min-width: 0; }
.to-row label { font-weight: 500; }
.to-input {
  flex: 1; min-width: 0; height: 40px; padding: 0 12px; border-radius: 8px;
  border: 1px solid var(--divider-color, rgba(0, 0, 0, 0.12));
  background: var(--secondary-background-color, #e5e5e5); color: var(--primary-text-color, #212121);
}
.recipients { flex: 1; min-height: 0; overflow-y: auto; padding: 8px 0; }
.recipients h3 { margin: 8px 16px; font-size: 13px; font-weight: 500; color: var(--secondary-text-color, #727272); }
.recipient-list { list-style: none; margin: 0; padding: 0; }
.recipient { display: flex; gap: 12px; width: 100%; align-items: center; text-align: left; padding: 8px 16px;
  border: 0; background: transparent; cursor: pointer; color: var(--primary-text-color, #212121); }
.recipient:hover { background: rgba(var(--rgb-primary-text-color, 33, 33, 33), 0.05); }
.recipient:focus-visible { outline-offset: -2px; }
/* position: the screen-reader-only spans in the bubbles stay inside the scroll box. */
.scroller { flex: 1; min-height: 0; overflow-y: auto; display: flex; flex-direction: column; position: relative;
  padding: 8px 16px 12px; overscroll-behavior: contain; }
.thread { margin-top: auto; display: flex; flex-direction: column; }
.older { align-self: center; margin: 4px 0 8px; }
.thread-start { align-self: center; margin: 4px 0 8px; font-size: 12px; color: var(--secondary-text-color, #727272); }
.messages { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 4px; }
.day { align-self: center; margin: 12px 0 6px; padding: 2px 10px; border-radius: 10px; font-size: 12px;
  color: var(--secondary-text-color, #727272); background: var(--card-background-color, #fff);
  border: 1px solid var(--divider-color, rgba(0, 0, 0, 0.12)); }
.msg { display: flex; }
.msg.sent { justify-content: flex-end; }
.bubble {
  max-width: min(75%, 560px); padding: 8px 12px 6px; border-radius: 16px;
  background: var(--card-background-color, #fff); color: var(--primary-text-color, #212121);
  border: 1px solid var(--divider-color, rgba(0, 0, 0, 0.12));
  border-bottom-left-radius: 4px;
}
.msg.sent .bubble {
  background: rgba(var(--sms-accent-rgb), 0.18); border-color: rgba(var(--sms-accent-rgb), 0.28);
  border-bottom-left-radius: 16px; border-bottom-right-radius: 4px;
}
.msg.failed .bubble { border-color: var(--error-color, #db4437); }
.text { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; word-break: break-word; line-height: 1.4; font-size: 15px; }
/* Small text on a tinted bubble: the text colour, softened, reads better than
   --secondary-text-color (too little contrast on the sent bubble). */
.meta { display: flex; flex-wrap: wrap; justify-content: flex-end; align-items: center; gap: 2px 8px;
  margin-top: 2px; font-size: 12px; color: var(--primary-text-color, #212121); }
.meta > time, .meta > .parts, .meta > .sender, .status-label { opacity: 0.75; }
.status { display: inline-flex; align-items: center; gap: 3px; }
.status .icon { width: 16px; height: 16px; opacity: 0.75; }
.status[data-status="delivered"] .icon { color: var(--success-color, #43a047); opacity: 1; }
.status[data-status="failed"] .icon, .status[data-status="bounced"] .icon, .status[data-status="expired"] .icon {
  color: var(--error-color, #db4437); opacity: 1; }
.status[data-status="failed"] .status-label, .status[data-status="bounced"] .status-label,
.status[data-status="expired"] .status-label { font-weight: 500; opacity: 0.9; }
.status[data-status="unconfirmed"] .icon { color: var(--warning-color, #ffa600); opacity: 1; }
.new-below { position: absolute; left: 50%; transform: translateX(-50%); bottom: 112px; z-index: 1;
  box-shadow: 0 2px 6px rgba(0, 0, 0, 0.25); }
.placeholder { margin: auto; padding: 24px; max-width: 520px; text-align: center; color: var(--secondary-text-color, #727272); }

.composer { flex: none; margin-top: auto; padding: 8px 12px 10px; background: var(--card-background-color, #fff);
  border-top: 1px solid var(--divider-color, rgba(0, 0, 0, 0.12)); }
.compose-row { display: flex; gap: 8px; align-items: flex-end; }
textarea {
  flex: 1; min-width: 0; resize: none; min-height: 44px; max-height: 160px; padding: 11px 14px;
  border-radius: 22px; border: 1px solid var(--divider-color, rgba(0, 0, 0, 0.12));
  background: var(--secondary-background-color, #e5e5e5); color: var(--primary-text-color, #212121);
  line-height: 20px; font-size: 15px;
}
textarea[aria-invalid="true"] { border-color: var(--error-color, #db4437); }
.send { width: 44px; height: 44px; border-radius: 50%; border: 0; flex: none; cursor: pointer;
  display: inline-flex; align-items: center; justify-content: center;
  background: var(--primary-color, #03a9f4); color: var(--text-primary-color, #fff); }
.send .icon { fill: currentColor; stroke-width: 1.5; }
.send:disabled { opacity: 0.45; cursor: default; }
.compose-info { display: flex; gap: 12px; justify-content: space-between; align-items: baseline;
  margin: 4px 6px 0; font-size: 12px; color: var(--secondary-text-color, #727272); }
.counter { font-variant-numeric: tabular-nums; }
.counter.error, .notice.error { color: var(--error-color, #db4437); font-weight: 500; }
.notice, .blocker { margin: 0 6px 6px; font-size: 13px; }
.notice:empty { display: none; }
.blocker { margin: 4px 6px; color: var(--secondary-text-color, #727272); }
.hint { flex: none; }

.empty { margin: auto; max-width: 560px; padding: 24px; text-align: center; }
.empty h2 { margin: 0 0 8px; font-size: 20px; font-weight: 500; }
.empty p { margin: 0 0 12px; color: var(--secondary-text-color, #727272); line-height: 1.45; }
.url-row { display: flex; gap: 8px; align-items: center; margin: 12px 0; }
.url {
  flex: 1; min-width: 0; padding: 10px 12px; border-radius: 8px; text-align: left;
  overflow-wrap: anywhere; word-break: break-all; user-select: all; line-height: 1.4;
  border: 1px solid var(--divider-color, rgba(0, 0, 0, 0.12));
  background: var(--secondary-background-color, #e5e5e5); color: var(--primary-text-color, #212121);
  font-family: var(--ha-font-family-code, ui-monospace, monospace); font-size: 13px;
}
.copy-status { min-height: 1.2em; font-size: 13px; color: var(--secondary-text-color, #727272); }

dialog {
  border: 0; padding: 0; border-radius: var(--ha-dialog-border-radius, 24px);
  background: var(--card-background-color, #fff); color: var(--primary-text-color, #212121);
  width: min(520px, calc(100vw - 32px)); box-shadow: 0 8px 32px rgba(0, 0, 0, 0.4);
}
dialog::backdrop { background: rgba(0, 0, 0, 0.45); }
.dialog-body { padding: 24px; }
.dialog-body h2 { margin: 0 0 12px; font-size: 20px; font-weight: 500; }
.dialog-body p { margin: 0 0 12px; line-height: 1.45; color: var(--secondary-text-color, #727272); }
.dialog-actions { display: flex; gap: 8px; justify-content: flex-end; margin-top: 16px; }

/* one pane at a time */
:host([single]) .list-pane { width: 100%; max-width: none; min-width: 0; border-right: 0; }
:host([single]) .conv-pane { display: none; }
:host([single][pane="conv"]) .list-pane { display: none; }
:host([single][pane="conv"]) .conv-pane { display: flex; }
:host([single][pane="conv"]) .toolbar { display: none; }
:host([single][pane="conv"]) .conv-header {
  min-height: var(--sms-header-height); padding-left: 4px;
  background: var(--app-header-background-color, var(--primary-color, #03a9f4));
  color: var(--app-header-text-color, var(--text-primary-color, #fff)); border-bottom: 0;
}
:host([single][pane="conv"]) .conv-title .sub { color: inherit; opacity: 0.8; }
:host([single]) .bubble { max-width: 85%; }
:host([single]) .hint { display: none; }
:host([single]) .new-label { display: none; }
:host([single]) .new { padding: 0; width: 40px; justify-content: center; }
`;

// ---------------------------------------------------------------- element

class ActioSmsPanel extends HTMLElement {
  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this._hass = null;
    this._narrowProp = false;
    this._route = null;
    this._panel = null;
    this._width = 0;
    this._strings = {};
    this._lang = null;
    this._plural = new Intl.PluralRules("en");
    this._formatters = new Map();
    this._localeKey = "";
    this._built = false;
    this._started = false;
    this._gen = 0; // bumped when the entry changes or the panel leaves the DOM
    this._subGen = 0;
    this._unsub = null;
    this._entries = [];
    this._entriesError = null;
    this._entryId = null;
    this._conversations = [];
    this._convError = null;
    this._convLoaded = false;
    this._search = "";
    this._threads = new Map();
    this._seen = new Set();
    this._selected = null;
    this._view = "none"; // none | conversation | compose
    this._drafts = new Map();
    this._sending = false;
    this._notice = null;
    this._webhookUrl = null;
    this._resizeObserver = null;
    this._pushedRoute = null;
    this._onReady = () => {
      // HA's connection came back: its library subscribes again by itself,
      // but what happened meanwhile was missed, so fetch it.
      if (this.isConnected && this._entryId) this._refresh();
    };
    this._onVisible = () => {
      // SMS that came in while the tab was hidden are read once it is shown.
      const conv = this._view === "conversation" && this._conversation(this._selected);
      if (document.visibilityState === "visible" && conv && Number(conv.unread) > 0) {
        this._markRead(conv.number);
        this._renderList();
      }
    };
  }

  // ---- properties set by Home Assistant

  set hass(hass) {
    const old = this._hass;
    this._hass = hass;
    if (!hass) return;
    const dark = Boolean(hass.themes && hass.themes.darkMode);
    if (dark !== this.hasAttribute("dark")) this.toggleAttribute("dark", dark);
    const localeKey = this._computeLocaleKey(hass);
    if (!old) {
      this._localeKey = localeKey;
      if (this.isConnected) this._start();
      return;
    }
    if (!this._started) {
      if (this.isConnected) this._start();
      return;
    }
    if (old.connection !== hass.connection && this.isConnected) {
      this._watchConnection(old.connection);
      this._resume();
    }
    let rerender = this._isAdmin(old) !== this._isAdmin(hass);
    if (localeKey !== this._localeKey) {
      this._localeKey = localeKey;
      this._formatters.clear();
      rerender = true;
    }
    if (old.language !== hass.language) this._applyLanguage().then(() => this._renderAll());
    else if (rerender) this._renderAll();
  }

  get hass() {
    return this._hass;
  }

  set narrow(value) {
    const narrow = Boolean(value);
    if (narrow === this._narrowProp) return;
    this._narrowProp = narrow;
    this._updateLayout();
  }

  get narrow() {
    return this._narrowProp;
  }

  set route(route) {
    this._route = route || null;
    if (this._started && this._convLoaded) this._followRoute();
  }

  get route() {
    return this._route;
  }

  set panel(panel) {
    this._panel = panel || null;
  }

  get panel() {
    return this._panel;
  }

  connectedCallback() {
    if (typeof ResizeObserver !== "undefined" && !this._resizeObserver) {
      this._resizeObserver = new ResizeObserver((items) => {
        const width = items[items.length - 1].contentRect.width;
        if (width && width !== this._width) {
          this._width = width;
          this._updateLayout();
        }
      });
    }
    if (this._resizeObserver) this._resizeObserver.observe(this);
    document.addEventListener("visibilitychange", this._onVisible);
    if (!this._hass) return;
    if (!this._started) this._start();
    else {
      this._watchConnection(null);
      this._resume();
    }
  }

  disconnectedCallback() {
    this._gen += 1;
    this._unsubscribe();
    if (this._resizeObserver) this._resizeObserver.disconnect();
    document.removeEventListener("visibilitychange", this._onVisible);
    this._watchConnection(null, false);
    clearTimeout(this._searchTimer);
    clearTimeout(this._reloadTimer);
    clearTimeout(this._markTimer);
  }

  // ---- translations, locale and formatting

  _computeLocaleKey(hass) {
    const locale = hass.locale || {};
    return [locale.language, locale.time_zone, locale.time_format, hass.config && hass.config.time_zone].join("|");
  }

  async _applyLanguage() {
    const wanted = str(this._hass && this._hass.language).toLowerCase();
    const base = wanted.split(/[-_]/)[0];
    const lang = LANGUAGES.includes(base) ? base : "en";
    const [en, local] = await Promise.all([loadStrings("en"), lang === "en" ? {} : loadStrings(lang)]);
    this._strings = { ...en, ...local };
    this._lang = lang;
    try {
      this._plural = new Intl.PluralRules(lang);
    } catch {
      this._plural = new Intl.PluralRules("en");
    }
  }

  _t(key, params) {
    let template;
    if (params && typeof params.count === "number") {
      template = this._strings[`${key}_${this._plural.select(params.count)}`] ?? this._strings[`${key}_other`];
    }
    template = template ?? this._strings[key];
    if (typeof template !== "string") template = key;
    if (!params) return template;
    return template.replace(/\{(\w+)\}/g, (match, name) => (name in params ? str(params[name]) : match));
  }

  _locale() {
    const hass = this._hass || {};
    return (hass.locale && hass.locale.language) || hass.language || navigator.language || "en";
  }

  _timeZone() {
    const hass = this._hass || {};
    const locale = hass.locale || {};
    if (locale.time_zone === "server" && hass.config && hass.config.time_zone) return hass.config.time_zone;
    return undefined;
  }

  _formatter(kind) {
    let fmt = this._formatters.get(kind);
    if (fmt) return fmt;
    const timeFormat = this._hass && this._hass.locale && this._hass.locale.time_format;
    // As HA's own formatters: "12"/"24" forced, "system" from the browser, else the language's.
    let hour12 = timeFormat === "12" ? true : timeFormat === "24" ? false : undefined;
    if (timeFormat === "system") {
      try {
        hour12 = new Intl.DateTimeFormat(undefined, { hour: "numeric" }).resolvedOptions().hour12;
      } catch {
        hour12 = undefined;
      }
    }
    const options = {
      time: { hour: "numeric", minute: "2-digit", hour12 },
      day: { day: "numeric", month: "long", year: "numeric", weekday: "long" },
      weekday: { weekday: "short" },
      date: { day: "numeric", month: "short" },
      fulldate: { day: "numeric", month: "short", year: "numeric" },
      datetime: { day: "numeric", month: "short", year: "numeric", hour: "numeric", minute: "2-digit", hour12 },
      full: { weekday: "long", day: "numeric", month: "long", year: "numeric", hour: "numeric", minute: "2-digit", second: "2-digit", hour12 },
      key: { year: "numeric", month: "2-digit", day: "2-digit" },
    }[kind];
    const timeZone = this._timeZone();
    const locale = kind === "key" ? "en-CA" : this._locale();
    // A language tag or time zone this browser does not know: fall back step by step.
    for (const [tag, opts] of [[locale, { ...options, timeZone }], ["en", { ...options, timeZone }], [locale, options], ["en", options]]) {
      try {
        fmt = new Intl.DateTimeFormat(tag, opts);
        break;
      } catch {
        fmt = null;
      }
    }
    this._formatters.set(kind, fmt);
    return fmt;
  }

  _format(kind, date) {
    try {
      return this._formatter(kind).format(date);
    } catch {
      return "";
    }
  }

  _dayKey(date) {
    return this._format("key", date);
  }

  _dayLabel(date) {
    const key = this._dayKey(date);
    const now = new Date();
    if (key === this._dayKey(now)) return this._t("today");
    if (key === this._dayKey(new Date(now.getTime() - 86400000))) return this._t("yesterday");
    return this._format("day", date);
  }

  _listTime(date) {
    const now = new Date();
    if (this._dayKey(date) === this._dayKey(now)) return this._format("time", date);
    const age = now.getTime() - date.getTime();
    if (age >= 0 && age < 6 * 86400000) return this._format("weekday", date);
    if (this._format("key", date).slice(0, 4) === this._format("key", now).slice(0, 4)) return this._format("date", date);
    return this._format("fulldate", date);
  }

  // ---- small accessors

  _isAdmin(hass = this._hass) {
    return Boolean(hass && hass.user && hass.user.is_admin);
  }

  _entry() {
    return this._entries.find((entry) => entry && entry.entry_id === this._entryId) || null;
  }

  _conversation(number) {
    return this._conversations.find((conv) => conv.number === number) || null;
  }

  _nameOf(number) {
    const conv = this._conversation(number);
    if (conv) return str(conv.name) || str(conv.display) || str(conv.number);
    const entry = this._entry();
    const recipient = entry && Array.isArray(entry.recipients)
      ? entry.recipients.find((item) => item && item.number === number) : null;
    if (recipient) return str(recipient.name) || str(recipient.display) || str(number);
    return str(number);
  }

  _displayOf(number) {
    const conv = this._conversation(number);
    if (conv && conv.display) return str(conv.display);
    const entry = this._entry();
    const recipient = entry && Array.isArray(entry.recipients)
      ? entry.recipients.find((item) => item && item.number === number) : null;
    if (recipient && recipient.display) return str(recipient.display);
    return str(number);
  }

  _ws(message) {
    const conn = this._hass && this._hass.connection;
    if (!conn || typeof conn.sendMessagePromise !== "function") {
      return Promise.reject(new Error("No connection to Home Assistant"));
    }
    return conn.sendMessagePromise(message);
  }

  _announce(text) {
    const live = this._els && this._els.live;
    if (!live) return;
    live.textContent = "";
    // A fresh text node after a tick is announced even when it repeats.
    setTimeout(() => {
      live.textContent = text;
    }, 30);
  }

  // ---- lifecycle

  async _start() {
    if (this._started) return;
    this._started = true;
    this._watchConnection(null);
    const gen = this._gen;
    await this._applyLanguage();
    if (gen !== this._gen && !this.isConnected) {
      this._started = false;
      return;
    }
    this._build();
    this._renderAll();
    await this._loadEntries();
  }

  _watchConnection(previous, watch = true) {
    const remove = (conn) => {
      if (conn && typeof conn.removeEventListener === "function") conn.removeEventListener("ready", this._onReady);
    };
    remove(previous);
    remove(this._watched);
    this._watched = null;
    const conn = this._hass && this._hass.connection;
    if (watch && conn && typeof conn.addEventListener === "function") {
      conn.addEventListener("ready", this._onReady);
      this._watched = conn;
    }
  }

  _resume() {
    // Back in the DOM (or a new connection): subscribe again and load again.
    if (!this._entryId) {
      this._loadEntries();
      return;
    }
    this._subscribe();
    this._refresh();
  }

  _refresh() {
    this._gen += 1;
    this._threads.clear();
    this._loadConversations().then(() => {
      if (this._view === "conversation" && this._selected) this._open(this._selected, { focus: false, push: false });
    });
  }

  async _loadEntries() {
    const gen = this._gen;
    this._entriesError = null;
    this._renderListStatus(this._t("loading"));
    let entries;
    try {
      const result = await this._ws({ type: "actio_sms/entries" });
      entries = Array.isArray(result && result.entries) ? result.entries.filter((e) => e && e.entry_id) : [];
    } catch (err) {
      if (gen !== this._gen) return;
      this._entriesError = errorText(err);
      this._renderAll();
      return;
    }
    if (gen !== this._gen) return;
    this._entries = entries;
    this._entriesLoaded = true;
    if (!entries.length) {
      this._entryId = null;
      this._renderAll();
      return;
    }
    let stored = null;
    try {
      stored = window.localStorage.getItem(STORAGE_ENTRY);
    } catch {
      stored = null;
    }
    const keep = entries.find((e) => e.entry_id === this._entryId)
      || entries.find((e) => e.entry_id === stored)
      || entries.find((e) => e.loaded !== false)
      || entries[0];
    await this._selectEntry(keep.entry_id, { keepView: keep.entry_id === this._entryId });
  }

  async _selectEntry(entryId, { keepView = false } = {}) {
    const changed = entryId !== this._entryId;
    this._gen += 1;
    this._entryId = entryId;
    try {
      window.localStorage.setItem(STORAGE_ENTRY, entryId);
    } catch {
      // private mode: the choice is not remembered
    }
    this._threads.clear();
    this._conversations = [];
    this._convLoaded = false;
    this._webhookUrl = null;
    if (changed || !keepView) {
      this._selected = null;
      this._view = "none";
      this._drafts.clear();
    }
    this._notice = null;
    this._renderAll();
    this._subscribe();
    await this._loadConversations();
    this._followRoute();
  }

  _subscribe() {
    this._unsubscribe();
    const conn = this._hass && this._hass.connection;
    const entryId = this._entryId;
    if (!conn || !entryId || typeof conn.subscribeMessage !== "function") return;
    const gen = ++this._subGen;
    let pending;
    try {
      pending = conn.subscribeMessage((event) => {
        if (gen === this._subGen && entryId === this._entryId) this._onEvent(event);
      }, { type: "actio_sms/subscribe", config_entry_id: entryId });
    } catch (err) {
      pending = Promise.reject(err);
    }
    Promise.resolve(pending).then(
      (unsub) => {
        if (gen !== this._subGen) callUnsub(unsub);
        else {
          this._unsub = unsub;
          if (this._bannerText) this._setBanner("");
        }
      },
      (err) => {
        if (gen === this._subGen) this._setBanner(this._t("error", { message: errorText(err) }));
      },
    );
  }

  _unsubscribe() {
    this._subGen += 1;
    const unsub = this._unsub;
    this._unsub = null;
    callUnsub(unsub);
  }

  async _loadConversations() {
    const gen = this._gen;
    const entryId = this._entryId;
    const search = this._search.trim();
    const token = (this._convToken = (this._convToken || 0) + 1);
    const message = { type: "actio_sms/conversations", config_entry_id: entryId };
    if (search) message.search = search;
    if (!this._convLoaded) this._renderListStatus(this._t("loading"));
    try {
      const result = await this._ws(message);
      if (gen !== this._gen || token !== this._convToken) return;
      const list = Array.isArray(result && result.conversations) ? result.conversations : [];
      this._conversations = list.filter((c) => c && c.number !== undefined && c.number !== null)
        .map((c) => ({ ...c, number: str(c.number) }));
      this._convError = null;
    } catch (err) {
      if (gen !== this._gen || token !== this._convToken) return;
      this._convError = errorText(err);
    }
    this._convLoaded = true;
    this._renderList();
    this._renderHeader();
  }

  _followRoute() {
    const route = this._route;
    if (!route || typeof route.path !== "string") return;
    const segment = route.path.replace(/^\/+/, "").split("/")[0];
    let number = "";
    try {
      number = decodeURIComponent(segment);
    } catch {
      number = segment;
    }
    if (number && (number !== this._selected || this._view !== "conversation")) {
      this._open(number, { focus: false, push: false });
    } else if (!number && this._view === "conversation") {
      // The browser's (or the phone's) back button left the conversation.
      this._pushedRoute = null;
      this._close({ push: false });
    }
  }

  // The open conversation is in the URL (/<panel>/<number>), as HA's own
  // panels keep their sub-pages: on a phone, opening one is a history step,
  // so the system back button returns to the list.
  _navigate(number, { replace = false } = {}) {
    const route = this._route;
    if (!route || typeof route.prefix !== "string" || !route.prefix) return;
    const path = number ? `${route.prefix}/${encodeURIComponent(number)}` : route.prefix;
    if (window.location.pathname === path) return;
    try {
      if (replace) history.replaceState(history.state, "", path);
      else history.pushState(null, "", path);
      window.dispatchEvent(new CustomEvent("location-changed", { detail: { replace } }));
    } catch {
      // not allowed (sandboxed frame): the panel works without the URL
    }
  }

  // ---- events from the subscription

  _onEvent(event) {
    if (!event || typeof event !== "object") return;
    if (event.kind === "message" && event.message && typeof event.message === "object") {
      this._onMessage(event.message);
    } else if (event.kind === "status") {
      this._onStatus(event);
    } else if (event.kind === "deleted") {
      this._onDeleted(str(event.number));
    }
  }

  _onMessage(raw) {
    const msg = { ...raw, number: str(raw.number) };
    const number = msg.number;
    if (!number) return;
    const received = msg.direction !== "sent";
    const open = this._view === "conversation" && this._selected === number;
    const thread = this._threads.get(number);
    const added = thread ? this._addToThread(thread, msg) : true;
    // The same event again (a resubscription): counted once.
    const key = `${number}\u0000${messageKey(msg)}`;
    if (!added || this._seen.has(key)) return;
    this._seen.add(key);
    if (this._seen.size > 1000) this._seen.delete(this._seen.values().next().value);
    if (open) this._appendRendered(msg, received);
    const conv = this._conversation(number);
    if (conv && !this._search.trim()) {
      const atMs = (parseDate(msg.at) || new Date()).getTime();
      const lastMs = conv.last && parseDate(conv.last.at) ? parseDate(conv.last.at).getTime() : 0;
      if (atMs >= lastMs) conv.last = { direction: msg.direction, body: msg.body, at: msg.at };
      conv.count = (Number(conv.count) || 0) + 1;
      if (received) {
        if (open && document.visibilityState !== "hidden") this._scheduleMarkRead(number);
        else conv.unread = (Number(conv.unread) || 0) + 1;
      }
      this._conversations = [conv, ...this._conversations.filter((c) => c !== conv)];
      this._renderList();
    } else {
      this._scheduleReload();
      if (received && open) this._scheduleMarkRead(number);
    }
    if (received) {
      this._announce(this._t("announce_received", { name: this._nameOf(number), body: str(msg.body).slice(0, 160) }));
    }
  }

  _onStatus(event) {
    const number = str(event.number);
    const threads = number && this._threads.has(number) ? [this._threads.get(number)] : [...this._threads.values()];
    for (const thread of threads) {
      const msg = thread.items.find((item) =>
        (event.id && item.id === event.id) || (event.message_id && item.message_id === event.message_id));
      if (!msg) continue;
      if ("status" in event) msg.status = event.status;
      if ("reason" in event) msg.reason = event.reason;
      const el = this._els && this._els.messages.querySelector(`[data-key="${cssEscape(messageKey(msg))}"]`);
      if (el) el.replaceWith(this._renderMessage(msg));
      return;
    }
  }

  _onDeleted(number) {
    if (!number) return;
    const name = this._nameOf(number);
    this._threads.delete(number);
    this._drafts.delete(number);
    const had = this._conversation(number);
    this._conversations = this._conversations.filter((c) => c.number !== number);
    if (this._selected === number) {
      this._selected = null;
      if (this._view === "conversation") this._view = "none";
      this._renderPane();
      this._updateLayout();
    }
    this._renderList();
    if (had) this._announce(this._t("announce_deleted", { name }));
  }

  _scheduleReload() {
    clearTimeout(this._reloadTimer);
    this._reloadTimer = setTimeout(() => this._loadConversations(), 150);
  }

  _scheduleMarkRead(number) {
    clearTimeout(this._markTimer);
    this._markTimer = setTimeout(() => this._markRead(number), 400);
  }

  _markRead(number) {
    const conv = this._conversation(number);
    if (conv) conv.unread = 0;
    this._ws({ type: "actio_sms/mark_read", config_entry_id: this._entryId, number }).catch(() => {});
  }

  // ---- threads (messages of one number)

  _thread(number) {
    let thread = this._threads.get(number);
    if (!thread) {
      thread = { items: [], keys: new Set(), before: null, loaded: false, loading: false, error: null };
      this._threads.set(number, thread);
    }
    return thread;
  }

  _addToThread(thread, msg) {
    const key = messageKey(msg);
    if (thread.keys.has(key)) {
      const index = thread.items.findIndex((item) => messageKey(item) === key);
      if (index >= 0) thread.items[index] = { ...thread.items[index], ...msg };
      return false;
    }
    thread.keys.add(key);
    thread.items.push(msg);
    return true;
  }

  async _fetchPage(number, before) {
    const thread = this._thread(number);
    if (thread.loading) return false;
    thread.loading = true;
    thread.error = null;
    const gen = this._gen;
    const request = { type: "actio_sms/messages", config_entry_id: this._entryId, number, limit: PAGE_SIZE };
    if (before) request.before = before;
    try {
      const result = await this._ws(request);
      if (gen !== this._gen || this._threads.get(number) !== thread) return false;
      const page = (Array.isArray(result && result.messages) ? result.messages : [])
        .filter((m) => m && typeof m === "object")
        .map((m) => ({ ...m, number: str(m.number) || number }))
        .reverse();
      const fresh = page.filter((m) => !thread.keys.has(messageKey(m)));
      for (const m of fresh) thread.keys.add(messageKey(m));
      // Older pages go first; on the first page, live events that raced it are newer.
      thread.items = [...fresh, ...thread.items];
      thread.before = result && typeof result.before === "string" && result.before ? result.before : null;
      thread.loaded = true;
      return true;
    } catch (err) {
      if (gen !== this._gen) return false;
      thread.error = errorText(err);
      thread.loaded = thread.loaded || false;
      return true;
    } finally {
      thread.loading = false;
    }
  }

  async _open(number, { focus = true, push = true } = {}) {
    number = str(number);
    if (!number || !this._entryId) return;
    const switching = this._selected !== number || this._view !== "conversation";
    if (this._view === "compose") this._saveDraft();
    else if (switching) this._saveDraft();
    this._selected = number;
    this._view = "conversation";
    this._notice = null;
    this._newBelow = false;
    if (push) {
      const single = this._isSingle();
      this._navigate(number, { replace: !single || Boolean(this._pushedRoute) });
      if (single && !this._pushedRoute) this._pushedRoute = number;
    }
    const thread = this._thread(number);
    const conv = this._conversation(number);
    if (conv && Number(conv.unread) > 0) this._markRead(number);
    this._renderList();
    this._renderPane();
    this._updateLayout();
    if (focus) this._focusAfterOpen();
    if (!thread.loaded) {
      const changed = await this._fetchPage(number, null);
      if (!changed || this._selected !== number || this._view !== "conversation") return;
      this._renderMessages();
      this._scrollToBottom();
      this._fillViewport();
    } else {
      this._scrollToBottom();
    }
  }

  _focusAfterOpen() {
    const els = this._els;
    if (!els) return;
    if (this._isSingle()) els.convHeading.focus();
    else if (!els.textarea.disabled) els.textarea.focus();
    else els.convHeading.focus();
  }

  _close({ push = true } = {}) {
    const number = this._selected;
    this._saveDraft();
    this._view = "none";
    this._selected = null;
    this._renderPane();
    this._renderList();
    this._updateLayout();
    if (push) {
      const pushed = this._pushedRoute;
      this._pushedRoute = null;
      if (pushed && this._route && window.location.pathname.startsWith(`${this._route.prefix}/`)) history.back();
      else this._navigate(null, { replace: true });
    }
    const button = number && this._els.list.querySelector(`[data-number="${cssEscape(number)}"]`);
    if (button) button.focus();
    else if (this._els.newButton) this._els.newButton.focus();
  }

  _openCompose() {
    this._saveDraft();
    this._view = "compose";
    this._selected = null;
    this._notice = null;
    this._renderList();
    this._renderPane();
    this._updateLayout();
    this._els.toInput.focus();
  }

  async _loadOlder() {
    const number = this._selected;
    const thread = number && this._threads.get(number);
    if (!thread || !thread.before || thread.loading || this._view !== "conversation") return;
    const scroller = this._els.scroller;
    this._els.olderButton.textContent = this._t("loading");
    const fromBottom = scroller.scrollHeight - scroller.scrollTop;
    const changed = await this._fetchPage(number, thread.before);
    if (!changed || this._selected !== number) return;
    this._renderMessages();
    scroller.scrollTop = scroller.scrollHeight - fromBottom;
  }

  _fillViewport() {
    // Fewer messages than the pane's height: fetch older pages so it can scroll.
    const scroller = this._els.scroller;
    const thread = this._selected && this._threads.get(this._selected);
    if (thread && thread.before && !thread.loading && scroller.scrollHeight <= scroller.clientHeight + 40) {
      this._loadOlder().then(() => this._fillViewport());
    }
  }

  _nearBottom() {
    const s = this._els.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
  }

  _scrollToBottom() {
    const s = this._els.scroller;
    s.scrollTop = s.scrollHeight;
    this._newBelow = false;
    this._els.newBelow.hidden = true;
  }

  // ---- sending

  _saveDraft() {
    if (!this._els) return;
    const key = this._view === "compose" ? NEW_DRAFT : this._selected;
    if (!key) return;
    const value = this._els.textarea.value;
    if (value) this._drafts.set(key, value);
    else this._drafts.delete(key);
  }

  _counterState() {
    const entry = this._entry() || {};
    const maxParts = Number.isInteger(entry.max_parts) && entry.max_parts > 0 ? entry.max_parts : DEFAULT_MAX_PARTS;
    return countSms(this._els.textarea.value, entry.encoding === "gsm7" ? "gsm7" : "ucs2", maxParts);
  }

  _recipientFromInput() {
    const typed = this._els.toInput.value.trim();
    if (!typed) return "";
    const entry = this._entry();
    const recipients = entry && Array.isArray(entry.recipients) ? entry.recipients : [];
    const lower = typed.toLowerCase();
    const match = recipients.find((r) => r && [r.name, r.number, r.display].some((v) => str(v).toLowerCase() === lower));
    if (match) return str(match.number);
    const labelled = recipients.find((r) => r && `${str(r.name)} (${str(r.display)})`.toLowerCase() === lower);
    if (labelled) return str(labelled.number);
    return typed;
  }

  _sendBlocker() {
    const entry = this._entry();
    if (!entry || entry.loaded === false) return this._t("cannot_send_unloaded");
    if (this._view === "conversation" && !isPhoneNumber(this._selected)) {
      return this._t("cannot_reply", { name: this._nameOf(this._selected) });
    }
    return null;
  }

  _canSend() {
    if (this._sending || this._sendBlocker()) return false;
    if (!this._els.textarea.value.trim()) return false;
    if (this._counterState().error) return false;
    if (this._view === "compose" && !this._els.toInput.value.trim()) return false;
    return this._view === "compose" || this._view === "conversation";
  }

  async _send() {
    if (!this._canSend()) {
      if (this._view === "compose" && !this._els.toInput.value.trim() && this._els.textarea.value.trim()) {
        this._setNotice(this._t("recipient_required"), true);
      }
      return;
    }
    const compose = this._view === "compose";
    const number = compose ? this._recipientFromInput() : this._selected;
    if (!number) {
      this._setNotice(this._t("recipient_required"), true);
      return;
    }
    const message = this._els.textarea.value;
    const entryId = this._entryId;
    this._sending = true;
    this._setNotice(null);
    this._renderComposerState();
    let result;
    try {
      result = await this._hass.callService(
        "actio_sms", "send_message",
        { message, recipients: [number], config_entry_id: entryId },
        undefined, true, true,
      );
    } catch (err) {
      this._sending = false;
      if (entryId !== this._entryId) return;
      this._setNotice(errorText(err) || this._t("error", { message: "?" }), true);
      this._renderComposerState();
      return;
    }
    this._sending = false;
    // A reconnect meanwhile does not matter; another entry does.
    if (entryId !== this._entryId) return;
    const response = (result && result.response) || {};
    const sent = Array.isArray(response.messages) ? response.messages.filter((m) => m && typeof m === "object") : [];
    const skipped = Array.isArray(response.skipped) ? response.skipped.filter((s) => s && typeof s === "object") : [];
    const stillHere = compose ? this._view === "compose" : this._view === "conversation" && this._selected === number;
    const draftKey = compose ? NEW_DRAFT : number;
    if (sent.length || !skipped.length) {
      if (stillHere) this._els.textarea.value = "";
      // Switched away meanwhile: the saved draft is what went out.
      if (stillHere || this._drafts.get(draftKey) === message) this._drafts.delete(draftKey);
    }
    if (skipped.length) {
      const s = skipped[0];
      const who = this._displayOf(str(s.recipient) || number);
      this._setNotice(s.reason === "duplicate"
        ? this._t("skipped_duplicate", { number: who })
        : this._t("skipped", { number: who, reason: str(s.reason) }), true);
    }
    if (compose && stillHere && sent.length) {
      const target = str(sent[0].recipient) || number;
      if (this._view === "compose") {
        this._els.toInput.value = "";
        if (!this._conversation(target)) await this._loadConversations();
        this._open(target, { focus: true });
        return;
      }
    }
    this._renderComposerState();
    this._autosize();
    if (stillHere) this._scrollToBottom();
  }

  _setNotice(text, error = false) {
    this._notice = text ? { text, error } : null;
    if (!this._els) return;
    this._els.notice.textContent = text || "";
    this._els.notice.classList.toggle("error", Boolean(text && error));
  }

  _setBanner(text) {
    if (!this._els) return;
    this._bannerText = text || "";
    this._renderBanner();
  }

  async _copy(text, statusEl) {
    let ok = false;
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
        ok = true;
      }
    } catch {
      ok = false;
    }
    if (!ok) {
      // http:// on the LAN has no navigator.clipboard: the old way.
      const area = h("textarea", { readonly: true, style: "position:fixed;opacity:0;top:0;left:0" });
      area.value = text;
      this.shadowRoot.append(area);
      area.select();
      try {
        ok = document.execCommand("copy");
      } catch {
        ok = false;
      }
      area.remove();
    }
    statusEl.textContent = ok ? this._t("copied") : this._t("copy_failed");
  }

  async _webhook() {
    if (this._webhookUrl) return this._webhookUrl;
    const result = await this._ws({ type: "actio_sms/webhook_url", config_entry_id: this._entryId });
    this._webhookUrl = str(result && result.url);
    return this._webhookUrl;
  }

  // ---- dialogs

  _confirmDelete() {
    const number = this._selected;
    if (!number || !this._isAdmin()) return;
    const conv = this._conversation(number);
    const count = conv && Number.isFinite(Number(conv.count)) ? Number(conv.count) : (this._threads.get(number)?.items.length || 0);
    const dialog = this._els.dialog;
    const error = h("p", { class: "notice error", role: "alert" });
    const cancel = h("button", { class: "button flat", type: "button", onclick: () => dialog.close() }, this._t("cancel"));
    const confirm = h("button", {
      class: "button danger", type: "button",
      onclick: async () => {
        confirm.disabled = true;
        try {
          await this._ws({ type: "actio_sms/delete_conversation", config_entry_id: this._entryId, number });
          dialog.close();
          this._onDeleted(number);
          this._close({ push: true });
        } catch (err) {
          error.textContent = errorText(err);
          confirm.disabled = false;
        }
      },
    }, this._t("confirm_delete"));
    dialog.replaceChildren(h("div", { class: "dialog-body" },
      h("h2", { id: "dialog-title" }, this._t("delete_title")),
      h("p", null, this._t("delete_body", { name: this._nameOf(number), count })),
      error,
      h("div", { class: "dialog-actions" }, cancel, confirm)));
    dialog.setAttribute("aria-labelledby", "dialog-title");
    this._showDialog(dialog, cancel);
  }

  _openSettings() {
    if (!this._isAdmin()) return;
    const dialog = this._els.dialog;
    const entry = this._entry() || {};
    const close = h("button", { class: "button flat", type: "button", onclick: () => dialog.close() }, this._t("close"));
    dialog.replaceChildren(h("div", { class: "dialog-body" },
      h("h2", { id: "dialog-title" }, this._t("settings")),
      h("p", null, this._t("settings_body", { number: str(entry.display) || str(entry.number) || str(entry.title) })),
      this._webhookBlock(),
      h("div", { class: "dialog-actions" }, close)));
    dialog.setAttribute("aria-labelledby", "dialog-title");
    this._showDialog(dialog, close);
  }

  _showDialog(dialog, focusEl) {
    if (typeof dialog.showModal === "function") {
      if (dialog.open) dialog.close();
      dialog.showModal();
    } else dialog.setAttribute("open", "");
    if (focusEl) focusEl.focus();
  }

  _webhookBlock() {
    // The whole URL, wrapped and selectable: it must be pasted exactly.
    const url = h("code", { class: "url", "aria-label": this._t("webhook_url") }, this._webhookUrl || this._t("loading"));
    const status = h("div", { class: "copy-status", role: "status" });
    const copy = h("button", {
      class: "button", type: "button", disabled: !this._webhookUrl,
      onclick: () => this._copy(this._webhookUrl || "", status),
    }, icon("copy"), this._t("copy"));
    if (!this._webhookUrl) {
      const gen = this._gen;
      this._webhook().then((value) => {
        if (gen !== this._gen) return;
        url.textContent = value;
        copy.disabled = !value;
      }, (err) => {
        url.textContent = "";
        status.textContent = this._t("error", { message: errorText(err) });
      });
    }
    return h("div", { class: "webhook" }, h("div", { class: "url-row" }, url, copy), status);
  }

  // ---- layout

  _isSingle() {
    const width = this._width || this.clientWidth || window.innerWidth;
    return this._narrowProp || (width > 0 && width < NARROW_WIDTH);
  }

  _updateLayout() {
    if (!this._els) return;
    const single = this._isSingle();
    if (single !== this.hasAttribute("single")) this.toggleAttribute("single", single);
    const pane = this._view === "none" ? "list" : "conv";
    if (this.getAttribute("pane") !== pane) this.setAttribute("pane", pane);
    this._els.menu.hidden = !this._narrowProp;
    this._els.back.hidden = !single;
    this._placeEmpty();
  }

  // ---- rendering

  _build() {
    if (this._built) return;
    this._built = true;
    const root = this.shadowRoot;
    const els = {};
    this._els = els;
    const style = h("style", null, STYLE);

    els.menu = h("button", {
      class: "icon-button", type: "button",
      onclick: () => this.dispatchEvent(new Event("hass-toggle-menu", { bubbles: true, composed: true })),
    }, icon("menu"));
    els.title = h("h1");
    els.entrySelect = h("select", {
      onchange: (ev) => {
        // The conversation in the URL belongs to the previous entry.
        this._pushedRoute = null;
        this._navigate(null, { replace: true });
        this._selectEntry(ev.target.value);
      },
    });
    els.settings = h("button", { class: "icon-button", type: "button", onclick: () => this._openSettings() }, icon("info"));
    const toolbar = h("header", { class: "toolbar" }, els.menu, els.title, els.entrySelect, els.settings);

    els.banner = h("div", { class: "banner", role: "status" });

    els.search = h("input", {
      class: "search", type: "search", autocomplete: "off",
      oninput: () => {
        clearTimeout(this._searchTimer);
        this._searchTimer = setTimeout(() => {
          this._search = els.search.value;
          this._loadConversations();
        }, 250);
      },
      onkeydown: (ev) => {
        if (ev.key === "ArrowDown") {
          const first = els.list.querySelector(".conv");
          if (first) {
            ev.preventDefault();
            first.focus();
          }
        }
      },
    });
    els.newButton = h("button", { class: "button new", type: "button", onclick: () => this._openCompose() },
      icon("plus"), els.newLabel = h("span", { class: "new-label" }));
    els.listStatus = h("div", { class: "list-status", role: "status" });
    els.list = h("ul", { class: "conversations", onkeydown: (ev) => this._listKeys(ev) });
    els.listEmptySlot = h("div", { class: "empty-slot" });
    els.listPane = h("section", { class: "list-pane" },
      h("div", { class: "list-tools" }, h("div", { class: "search-box" }, icon("search"), els.search), els.newButton),
      els.listStatus, els.list, els.listEmptySlot);

    els.back = h("button", { class: "icon-button back", type: "button", onclick: () => this._close() }, icon("back"));
    els.convHeading = h("h2", { tabindex: "-1" });
    els.convSub = h("span", { class: "sub" });
    els.convTitle = h("div", { class: "conv-title" }, els.convHeading, els.convSub);
    els.toLabel = h("label", { for: "to" });
    els.toInput = h("input", {
      id: "to", class: "to-input", type: "text", list: "recipients", autocomplete: "off", inputmode: "tel",
      oninput: () => this._renderComposerState(),
    });
    els.toList = h("datalist", { id: "recipients" });
    els.toRow = h("div", { class: "to-row" }, els.toLabel, els.toInput, els.toList);
    els.deleteButton = h("button", { class: "icon-button", type: "button", onclick: () => this._confirmDelete() }, icon("trash"));
    els.convHeader = h("header", { class: "conv-header" }, els.back, els.convTitle, els.toRow, els.deleteButton);
    els.recipientsTitle = h("h3");
    els.recipientList = h("ul", { class: "recipient-list" });
    els.recipients = h("section", { class: "recipients" }, els.recipientsTitle, els.recipientList);

    els.olderButton = h("button", { class: "button flat older", type: "button", onclick: () => this._loadOlder() });
    els.threadStart = h("div", { class: "thread-start" });
    els.messages = h("ol", {
      class: "messages",
      // The full date as a tooltip, made when first hovered.
      onmouseover: (ev) => {
        const time = ev.target.closest && ev.target.closest("time");
        if (time && !time.title) {
          const date = parseDate(time.getAttribute("datetime"));
          if (date) time.title = this._format("full", date);
        }
      },
    });
    els.scroller = h("div", {
      class: "scroller",
      onscroll: () => {
        if (els.scroller.scrollTop < 60) this._loadOlder();
        if (this._nearBottom()) {
          this._newBelow = false;
          els.newBelow.hidden = true;
        }
      },
    }, h("div", { class: "thread" }, els.olderButton, els.threadStart, els.messages));
    els.newBelow = h("button", { class: "button new-below", type: "button", hidden: true, onclick: () => this._scrollToBottom() },
      icon("down"), els.newBelowLabel = h("span"));

    els.notice = h("p", { class: "notice", role: "alert" });
    els.blocker = h("p", { class: "blocker" });
    els.textarea = h("textarea", {
      id: "message", rows: 1, "aria-describedby": "counter",
      oninput: () => {
        this._renderComposerState();
        this._autosize();
      },
      onkeydown: (ev) => {
        if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
          ev.preventDefault();
          this._send();
        }
      },
    });
    els.sendButton = h("button", { class: "send", type: "submit" }, icon("send"));
    els.counter = h("span", { class: "counter", id: "counter" });
    els.hint = h("span", { class: "hint" });
    els.composer = h("form", {
      class: "composer",
      onsubmit: (ev) => {
        ev.preventDefault();
        this._send();
      },
    }, els.notice, els.blocker,
    els.composeRow = h("div", { class: "compose-row" }, els.textarea, els.sendButton),
    els.composeInfo = h("div", { class: "compose-info" }, els.counter, els.hint));

    els.placeholder = h("div", { class: "placeholder" });
    els.empty = h("div", { class: "empty" });
    els.convPane = h("section", { class: "conv-pane" }, els.convHeader, els.recipients, els.scroller, els.newBelow, els.composer, els.placeholder, els.empty);

    els.live = h("div", { class: "sr-only", "aria-live": "polite", "aria-atomic": "true" });
    els.dialog = h("dialog");

    const app = h("div", {
      class: "app",
      onkeydown: (ev) => {
        if (ev.key === "Escape" && !ev.defaultPrevented && this._view !== "none" && this._isSingle()
            && !els.dialog.open) {
          ev.preventDefault();
          this._close();
        }
      },
    }, toolbar, els.banner, h("div", { class: "body" }, els.listPane, els.convPane), els.live, els.dialog);
    root.replaceChildren(style, app);
  }

  _renderAll() {
    if (!this._els) return;
    this._renderChrome();
    this._renderBanner();
    this._renderList();
    this._renderPane();
    this._updateLayout();
  }

  _renderChrome() {
    const els = this._els;
    els.menu.setAttribute("aria-label", this._t("menu"));
    els.menu.title = this._t("menu");
    els.title.textContent = this._t("title");
    els.back.setAttribute("aria-label", this._t("back"));
    els.back.title = this._t("back");
    els.search.placeholder = this._t("search_placeholder");
    els.search.title = this._t("search");
    els.search.setAttribute("aria-label", this._t("search"));
    els.newLabel.textContent = this._t("new_message");
    els.newButton.setAttribute("aria-label", this._t("new_message"));
    els.newButton.title = this._t("new_message");
    els.newButton.disabled = !this._entryId;
    els.list.setAttribute("aria-label", this._t("conversations"));
    els.listPane.setAttribute("aria-label", this._t("conversations"));
    els.settings.setAttribute("aria-label", this._t("settings"));
    els.settings.title = this._t("settings");
    els.settings.hidden = !this._isAdmin() || !this._entryId;
    els.deleteButton.setAttribute("aria-label", this._t("delete"));
    els.deleteButton.title = this._t("delete");
    els.toLabel.textContent = this._t("to");
    els.toInput.placeholder = this._t("to_placeholder");
    els.textarea.placeholder = this._t("reply_placeholder");
    els.textarea.setAttribute("aria-label", this._t("message_label"));
    els.sendButton.setAttribute("aria-label", this._t("send"));
    els.sendButton.title = `${this._t("send")} (Ctrl+Enter)`;
    els.hint.textContent = this._t("send_hint");
    els.newBelowLabel.textContent = this._t("new_below");
    els.olderButton.textContent = this._t("load_older");
    els.threadStart.textContent = this._t("start_of_conversation");
    els.entrySelect.setAttribute("aria-label", this._t("gateway"));
    els.entrySelect.title = this._t("gateway");
    els.entrySelect.replaceChildren(...this._entries.map((entry) => {
      const label = str(entry.title) || str(entry.display) || str(entry.entry_id);
      return h("option", { value: entry.entry_id, selected: entry.entry_id === this._entryId }, label);
    }));
    els.entrySelect.value = this._entryId || "";
    els.entrySelect.hidden = this._entries.length < 2;
  }

  _renderBanner() {
    const entry = this._entry();
    let text = this._bannerText || "";
    if (!text && entry && entry.loaded === false) {
      text = this._t("gateway_not_loaded", { title: str(entry.title) || str(entry.display) });
    }
    this._els.banner.textContent = text;
    this._els.banner.hidden = !text;
  }

  _renderListStatus(text) {
    if (this._els) this._els.listStatus.textContent = text || "";
  }

  _renderList() {
    const els = this._els;
    if (!els) return;
    let status = "";
    if (this._entriesError) status = this._t("error_loading", { message: this._entriesError });
    else if (this._entriesLoaded && !this._entries.length) status = this._t("no_entries");
    else if (!this._entriesLoaded) status = this._t("loading");
    else if (this._convError) status = this._t("error_loading", { message: this._convError });
    else if (!this._convLoaded) status = this._t("loading");
    else if (!this._conversations.length) {
      status = this._search.trim() ? this._t("no_results", { search: this._search.trim() }) : "";
    }
    els.listStatus.replaceChildren(status);
    if (this._entriesError || this._convError) {
      els.listStatus.append(" ", h("button", {
        class: "button flat", type: "button",
        onclick: () => (this._entriesError ? this._loadEntries() : this._loadConversations()),
      }, this._t("retry")));
    }
    const focused = this.shadowRoot.activeElement;
    const focusedNumber = focused && focused.classList && focused.classList.contains("conv") ? focused.dataset.number : null;
    const items = this._conversations.map((conv) => this._renderConversation(conv));
    els.list.replaceChildren(...items);
    if (focusedNumber !== null) {
      const again = els.list.querySelector(`[data-number="${cssEscape(focusedNumber)}"]`);
      if (again) again.focus();
    }
    this._placeEmpty();
  }

  _renderConversation(conv) {
    const name = str(conv.name) || str(conv.display) || str(conv.number);
    const last = conv.last && typeof conv.last === "object" ? conv.last : {};
    const date = parseDate(last.at);
    const time = date ? this._listTime(date) : "";
    const body = str(last.body).replace(/\s+/g, " ");
    const preview = last.direction === "sent" ? this._t("you_prefix", { body }) : body;
    const unread = Math.max(0, Number(conv.unread) || 0);
    const selected = this._view === "conversation" && this._selected === conv.number;
    const initial = isPhoneNumber(name.replace(/\s/g, "")) ? "#" : (Array.from(name.trim())[0] || "#").toUpperCase();
    const label = [name, unread ? this._t("unread", { count: unread }) : null, time, preview].filter(Boolean).join(", ");
    return h("li", null, h("button", {
      class: `conv${unread ? " unread" : ""}`, type: "button", "data-number": conv.number,
      "aria-current": selected ? "true" : null, "aria-label": label,
      onclick: () => this._open(conv.number),
    },
    h("span", { class: "avatar", "aria-hidden": "true" }, initial),
    h("span", { class: "conv-main" },
      h("span", { class: "conv-top" },
        h("span", { class: "conv-name" }, name),
        date ? h("time", { class: "conv-time", datetime: date.toISOString() }, time) : null),
      h("span", { class: "conv-bottom" },
        h("span", { class: "conv-preview" }, preview),
        unread ? h("span", { class: "badge" }, String(unread)) : null))));
  }

  _listKeys(ev) {
    const buttons = [...this._els.list.querySelectorAll(".conv")];
    const index = buttons.indexOf(this.shadowRoot.activeElement);
    if (index < 0) return;
    let next = null;
    if (ev.key === "ArrowDown") next = buttons[index + 1];
    else if (ev.key === "ArrowUp") next = index === 0 ? this._els.search : buttons[index - 1];
    else if (ev.key === "Home") next = buttons[0];
    else if (ev.key === "End") next = buttons[buttons.length - 1];
    if (next) {
      ev.preventDefault();
      next.focus();
    }
  }

  _showEmpty() {
    return Boolean(this._entryId && this._convLoaded && !this._convError && !this._conversations.length
      && !this._search.trim() && this._view === "none");
  }

  _placeEmpty() {
    const els = this._els;
    if (!els) return;
    const show = this._showEmpty();
    if (show && !els.empty.firstChild) this._renderEmpty();
    const target = this._isSingle() ? els.listEmptySlot : els.convPane;
    if (els.empty.parentNode !== target) target.append(els.empty);
    els.empty.hidden = !show;
    els.listEmptySlot.hidden = !(show && this._isSingle());
    els.placeholder.hidden = show || this._view !== "none" || !this._entryId;
  }

  _renderEmpty() {
    const entry = this._entry() || {};
    const number = str(entry.display) || str(entry.number) || str(entry.title);
    const admin = this._isAdmin();
    this._els.empty.replaceChildren(
      h("h2", null, this._t("empty_title")),
      h("p", null, this._t(admin ? "empty_body" : "empty_body_user", { number })),
      admin ? this._webhookBlock() : null,
      h("p", null, this._t("empty_send")),
    );
  }

  _renderPane() {
    const els = this._els;
    if (!els) return;
    const view = this._view;
    const conversation = view === "conversation";
    const compose = view === "compose";
    els.convHeader.hidden = !conversation && !compose;
    els.scroller.hidden = !conversation;
    els.composer.hidden = !conversation && !compose;
    els.newBelow.hidden = !conversation || !this._newBelow;
    els.convTitle.hidden = !conversation;
    els.toRow.hidden = !compose;
    els.deleteButton.hidden = !conversation || !this._isAdmin();
    els.placeholder.textContent = this._t("select_conversation");
    els.empty.replaceChildren();
    this._placeEmpty();
    if (conversation) {
      this._renderHeader();
      this._renderMessages();
    }
    if (compose) {
      const entry = this._entry();
      const recipients = entry && Array.isArray(entry.recipients) ? entry.recipients : [];
      const usable = recipients.filter((r) => r && r.number);
      els.toList.replaceChildren(...usable.map((r) =>
        h("option", { value: str(r.number) }, str(r.name) ? `${str(r.name)} (${str(r.display) || str(r.number)})` : str(r.display))));
      els.recipientsTitle.textContent = this._t("recipients");
      els.recipientList.replaceChildren(...usable.map((r) => {
        const name = str(r.name) || str(r.display) || str(r.number);
        return h("li", null, h("button", {
          class: "recipient", type: "button", "data-number": str(r.number),
          onclick: () => {
            els.toInput.value = name;
            this._renderComposerState();
            els.textarea.focus();
          },
        }, h("span", { class: "avatar", "aria-hidden": "true" }, (Array.from(name.trim())[0] || "#").toUpperCase()),
        h("span", { class: "conv-main" }, h("span", { class: "conv-name" }, name),
          h("span", { class: "conv-preview" }, str(r.display) || str(r.number)))));
      }));
    }
    els.recipients.hidden = !compose || !els.recipientList.childElementCount;
    const paneKey = `${this._entryId}|${view}|${this._selected}`;
    let resize = false;
    if ((conversation || compose) && paneKey !== this._paneKey) {
      const key = compose ? NEW_DRAFT : this._selected;
      const draft = this._drafts.get(key) || "";
      resize = draft !== els.textarea.value;
      els.textarea.value = draft;
    }
    this._paneKey = paneKey;
    if (conversation || compose) {
      els.notice.textContent = this._notice ? this._notice.text : "";
      els.notice.classList.toggle("error", Boolean(this._notice && this._notice.error));
      this._renderComposerState();
      // Measuring forces a layout: only when the text changed.
      if (resize) this._autosize();
    }
  }

  _renderHeader() {
    const els = this._els;
    if (!els || this._view !== "conversation" || !this._selected) return;
    const name = this._nameOf(this._selected);
    const display = this._displayOf(this._selected);
    els.convHeading.textContent = name;
    els.convSub.textContent = display !== name ? display : "";
    els.convSub.hidden = display === name;
  }

  _renderMessages() {
    const els = this._els;
    const thread = this._selected && this._threads.get(this._selected);
    const items = thread ? thread.items : [];
    const nodes = [];
    let lastDay = null;
    for (const msg of items) {
      const date = parseDate(msg.at);
      const day = date ? this._dayKey(date) : "";
      if (date && day !== lastDay) {
        nodes.push(h("li", { class: "day", "data-day": day }, this._dayLabel(date)));
        lastDay = day;
      }
      nodes.push(this._renderMessage(msg));
    }
    this._lastDay = lastDay;
    els.messages.replaceChildren(...nodes);
    const loading = thread && !thread.loaded && thread.loading;
    els.olderButton.hidden = !(thread && thread.before);
    els.olderButton.textContent = this._t("load_older");
    els.threadStart.hidden = !(thread && thread.loaded && !thread.before && items.length);
    if (loading) els.threadStart.hidden = true;
    if (thread && thread.error) {
      els.messages.prepend(h("li", { class: "thread-start" }, this._t("error_loading", { message: thread.error })));
    } else if (thread && !thread.loaded) {
      els.messages.prepend(h("li", { class: "thread-start" }, this._t("loading")));
    }
  }

  _appendRendered(msg, received) {
    const els = this._els;
    const stick = this._nearBottom() || !received;
    const date = parseDate(msg.at);
    if (date) {
      const day = this._dayKey(date);
      if (day !== this._lastDay) {
        els.messages.append(h("li", { class: "day", "data-day": day }, this._dayLabel(date)));
        this._lastDay = day;
      }
    }
    els.messages.append(this._renderMessage(msg));
    if (stick) this._scrollToBottom();
    else {
      this._newBelow = true;
      els.newBelow.hidden = false;
    }
  }

  _renderMessage(msg) {
    const sent = msg.direction === "sent";
    const status = str(msg.status);
    const date = parseDate(msg.at);
    const meta = [];
    if (date) {
      meta.push(h("time", { datetime: date.toISOString() }, this._format("time", date)));
    }
    if (Number.isInteger(msg.parts) && msg.parts > 0) {
      meta.push(h("span", { class: "parts" }, this._t("parts", { count: msg.parts })));
    }
    if (sent && msg.sender) meta.push(h("span", { class: "sender" }, this._t("from_sender", { sender: str(msg.sender) })));
    if (sent && status) meta.push(this._renderStatus(msg));
    const failed = ["failed", "bounced", "expired"].includes(status);
    return h("li", {
      class: `msg ${sent ? "sent" : "received"}${failed ? " failed" : ""}`,
      "data-key": messageKey(msg), "data-id": str(msg.id) || null, "data-status": status || null,
    }, h("div", { class: "bubble" },
      h("span", { class: "sr-only" }, `${sent ? this._t("you") : this._nameOf(str(msg.number) || this._selected)}: `),
      h("p", { class: "text" }, str(msg.body)),
      h("div", { class: "meta" }, ...meta)));
  }

  _renderStatus(msg) {
    const status = str(msg.status);
    const reason = str(msg.reason);
    let iconName = "check";
    let text;
    let long = null;
    // The integration stores a scheduled SMS as pending with its scheduled_at.
    const scheduled = status === "scheduled" || (status === "pending" && parseDate(msg.scheduled_at));
    switch (scheduled ? "scheduled" : status) {
      case "pending":
        text = this._t("status_pending");
        long = this._t("status_pending_long");
        break;
      case "unconfirmed":
        iconName = "question";
        text = this._t("status_unconfirmed");
        long = this._t("status_unconfirmed_long");
        break;
      case "delivered":
        iconName = "checks";
        text = this._t("status_delivered");
        break;
      case "failed":
        iconName = "alert";
        text = reason ? this._t("status_failed_reason", { reason }) : this._t("status_failed");
        break;
      case "expired":
        iconName = "cross";
        text = this._t("status_expired");
        long = this._t("status_expired_long");
        break;
      case "bounced":
        iconName = "cross";
        text = this._t("status_bounced");
        long = this._t("status_bounced_long");
        break;
      case "scheduled": {
        iconName = "clock";
        const when = parseDate(msg.scheduled_at);
        text = this._t("status_scheduled", { time: when ? this._format("datetime", when) : str(msg.scheduled_at) });
        break;
      }
      default:
        iconName = "info";
        text = this._t("status_unknown", { status });
        if (reason) text = `${text}: ${reason}`;
    }
    return h("span", { class: "status", "data-status": status, title: long || text },
      icon(iconName), h("span", { class: "status-label" }, text),
      long ? h("span", { class: "sr-only" }, ` (${long})`) : null);
  }

  _renderComposerState() {
    const els = this._els;
    if (!els || (this._view !== "conversation" && this._view !== "compose")) return;
    const counter = this._counterState();
    let text;
    if (counter.error === "unsupported") text = this._t("error_unsupported", { chars: counter.unsupported });
    else if (counter.error === "gsm7_long") text = this._t("error_gsm7_long", { count: counter.units, limit: counter.limit });
    else if (counter.error === "too_many_parts") text = this._t("error_too_many_parts", { parts: counter.parts, max: counter.max });
    else {
      const chars = counter.encoding === "gsm7"
        ? this._t("gsm7_characters", { count: counter.units, limit: counter.limit })
        : this._t("characters", { count: counter.units });
      text = `${chars} · ${this._t("parts_of", { parts: counter.parts, max: counter.max })}`;
    }
    els.counter.textContent = text;
    els.counter.classList.toggle("error", Boolean(counter.error));
    els.counter.dataset.parts = String(counter.parts);
    els.counter.dataset.units = String(counter.units);
    els.counter.dataset.error = counter.error || "";
    els.textarea.setAttribute("aria-invalid", counter.error ? "true" : "false");
    // Nothing can be sent here (a sender name, a gateway not loaded): say why
    // instead of offering a box that cannot work.
    const blocker = this._sendBlocker();
    els.textarea.disabled = Boolean(blocker);
    els.blocker.textContent = blocker || "";
    els.blocker.hidden = !blocker;
    els.composeRow.hidden = Boolean(blocker);
    els.composeInfo.hidden = Boolean(blocker);
    els.sendButton.disabled = !this._canSend();
    els.sendButton.setAttribute("aria-label", this._sending ? this._t("sending") : this._t("send"));
    els.composer.setAttribute("aria-busy", this._sending ? "true" : "false");
  }

  _autosize() {
    const area = this._els.textarea;
    area.style.height = "auto";
    if (area.scrollHeight) area.style.height = `${Math.min(area.scrollHeight + 2, 160)}px`;
  }
}

function callUnsub(unsub) {
  if (typeof unsub !== "function") return;
  try {
    const result = unsub();
    if (result && typeof result.catch === "function") result.catch(() => {});
  } catch {
    // the connection is gone; nothing to unsubscribe from
  }
}

function cssEscape(value) {
  return typeof CSS !== "undefined" && CSS.escape ? CSS.escape(value) : String(value).replace(/["\\]/g, "\\$&");
}

if (!customElements.get("actio-sms-panel")) {
  customElements.define("actio-sms-panel", ActioSmsPanel);
}
