// vaxcert checkpoint page.  Everything it needs comes from the local server; nothing is stored in
// the browser (no cookies, no local storage): the pairing token lives in memory and in the URL
// fragment, which browsers never send to a server.
"use strict";

const T = {
  vi: {
    title: "Kiểm tra thẻ", scanTitle: "Quét mã QR của thẻ", scanHint: "Đưa mã QR vào khung hình, hoặc dùng máy quét.",
    scannerLabel: "Máy quét / dán mã", cameraOff: "Không có camera — dùng máy quét", name: "Họ và tên",
    birthDate: "Ngày sinh", doses: "Số mũi", lastDose: "Mũi gần nhất", validity: "Hiệu lực", next: "Tiếp theo",
    idPrompt: "Quét mã QR trên CCCD để so khớp họ tên và ngày sinh",
    idMatch: "Khớp với CCCD", idMismatch: "KHÔNG khớp với CCCD", idNotComparable: "Không so sánh được với CCCD",
    idName: "Họ tên", idBirth: "Ngày sinh", idCard: "CCCD",
    part_match: "khớp", part_mismatch: "không khớp", part_not_comparable: "không so sánh được",
    precision_year: "chỉ năm", precision_month: "chỉ tháng và năm",
    idWaiting: "Đã đọc CCCD — hãy quét thẻ của người này.",
    tooOldTitle: "Dữ liệu tin cậy đã quá cũ",
    tooOldHint: "Không đưa ra kết quả cho đến khi cập nhật gói dữ liệu. Đây không phải lỗi của người dân.",
    tooOldText: "Gói dữ liệu ký ngày {issued}, hết hạn {fresh}; đã quá {grace} giờ gia hạn.",
    pairTitle: "Nhập mã ghép nối", pairHint: "Mã được in trên màn hình của máy chủ kiểm tra.", pairOk: "Kết nối",
    pairWrong: "Mã không đúng.", offline: "Mất kết nối tới máy chủ kiểm tra",
    bundleAge: "Dữ liệu: {age} trước · hạn {fresh}", bundleNew: "Dữ liệu mới · hạn {fresh}", bundleGrace: "Dữ liệu quá hạn {age}",
    bundleTooOld: "Dữ liệu quá cũ", bannerGrace: "Gói dữ liệu tin cậy đã hết hạn lúc {fresh}. Hãy cập nhật — còn {left} trước khi ngừng kiểm tra.",
    until: "đến hết ngày {d}", untilTime: "đến {t} ngày {d}", from: "từ {d}", fromUntil: "{a} – {b}", none: "—", testCert: "Xét nghiệm", recoveryCert: "Khỏi bệnh",
    minutes: "{n} phút", hours: "{n} giờ", days: "{n} ngày", justNow: "vừa xong",
    unknownCode: "Không đọc được mã.", sent: "Đang kiểm tra…",
  },
  en: {
    title: "Pass check", scanTitle: "Scan the certificate's QR code", scanHint: "Hold the QR code in the frame, or use the scanner.",
    scannerLabel: "Scanner / paste code", cameraOff: "No camera — use the scanner", name: "Name",
    birthDate: "Date of birth", doses: "Doses", lastDose: "Last dose", validity: "Valid", next: "Next",
    idPrompt: "Scan the QR code on the citizen ID card (CCCD) to compare name and date of birth",
    idMatch: "Matches the ID card", idMismatch: "Does NOT match the ID card", idNotComparable: "Cannot be compared with the ID card",
    idName: "Name", idBirth: "Date of birth", idCard: "ID card",
    part_match: "match", part_mismatch: "differs", part_not_comparable: "not comparable",
    precision_year: "year only", precision_month: "month and year only",
    idWaiting: "ID card read — now scan this person's certificate.",
    tooOldTitle: "The trust bundle is too old",
    tooOldHint: "No verdicts until the bundle is updated. This is not the citizen's fault.",
    tooOldText: "Bundle signed {issued}, fresh until {fresh}; the {grace}-hour grace period is over.",
    pairTitle: "Enter the pairing code", pairHint: "The code is printed on the checkpoint server's console.", pairOk: "Connect",
    pairWrong: "Wrong code.", offline: "Lost connection to the checkpoint server",
    bundleAge: "Trust data: {age} old · fresh until {fresh}", bundleNew: "Trust data: new · fresh until {fresh}", bundleGrace: "Trust data expired {age} ago",
    bundleTooOld: "Trust data too old", bannerGrace: "The trust bundle expired at {fresh}. Update it — {left} left before checks stop.",
    until: "through {d}", untilTime: "until {t} on {d}", from: "from {d}", fromUntil: "{a} – {b}", none: "—", testCert: "Test", recoveryCert: "Recovery",
    minutes: "{n} min", hours: "{n} h", days: "{n} days", justNow: "just now",
    unknownCode: "Code not readable.", sent: "Checking…",
  },
};
const ICONS = { GREEN: "#i-green", YELLOW: "#i-yellow", RED: "#i-red" };
const FRAME_INTERVAL_MS = 200;       // about 5 frames a second
const CODE_GONE_MS = 2500;           // a code unseen this long may be shown again
const STATE_POLL_MS = 20000;

const $ = (id) => document.getElementById(id);
const S = {
  lang: "vi", token: null, config: null, bundle: null, screen: "idle",
  verdict: null,          // the verdict on screen (holder kept only while shown)
  card: null,             // an ID card read before its certificate, kept only until the next clear
  lastCodeId: null, lastCodeSeen: 0, clearTimer: null, clearAt: 0, camera: false, busy: false,
  lang_chosen: null,      // a language picked by staff (or ?lang=) wins over the server's default
};

function fmt(key, values) {
  let text = T[S.lang][key] ?? key;
  for (const [k, v] of Object.entries(values || {})) text = text.replace(`{${k}}`, v);
  return text;
}

function fmtDate(iso) {
  // ISO date or partial date (YYYY, YYYY-MM, YYYY-MM-DD): dd/mm/yyyy in Vietnamese, as is in English
  if (!iso) return T[S.lang].none;
  const [y, m, d] = iso.slice(0, 10).split("-");
  if (S.lang === "en") return [y, m, d].filter(Boolean).join("-");
  return [d, m, y].filter(Boolean).join("/");
}

function fmtInstant(iso) {
  if (!iso) return T[S.lang].none;
  const t = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  const date = S.lang === "en" ? `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}`
                               : `${pad(t.getDate())}/${pad(t.getMonth() + 1)}/${t.getFullYear()}`;
  return `${date} ${pad(t.getHours())}:${pad(t.getMinutes())}`;
}

function fmtDuration(seconds) {
  const s = Math.max(0, seconds);
  if (s < 90) return T[S.lang].justNow;
  if (s < 5400) return fmt("minutes", { n: Math.round(s / 60) });
  if (s < 48 * 3600) return fmt("hours", { n: Math.round(s / 3600) });
  return fmt("days", { n: Math.round(s / 86400) });
}

// ---------------------------------------------------------------------------------------------
// server calls

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (S.token) headers["X-Vaxcert-Token"] = S.token;
  let response;
  try {
    response = await fetch(path, Object.assign({}, options, { headers, cache: "no-store", credentials: "omit" }));
  } catch (err) {
    $("offline").hidden = false;
    throw err;
  }
  $("offline").hidden = true;
  if (response.status === 401) {
    showPairing(S.token ? T[S.lang].pairWrong : "");
    throw new Error("pairing needed");
  }
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

function postJson(path, body) {
  return api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

// ---------------------------------------------------------------------------------------------
// language

function setLang(lang) {
  if (!T[lang]) return;
  S.lang = lang;
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = T[lang][el.dataset.t];
  for (const b of document.querySelectorAll(".lang")) b.setAttribute("aria-pressed", String(b.dataset.lang === lang));
  renderBundle();
  if (S.verdict) renderVerdict(S.verdict);
  if (S.verdict && S.verdict.identity) renderIdentity(S.verdict.identity, S.verdict.card);
}

// ---------------------------------------------------------------------------------------------
// bundle state

function applyState(state) {
  if (state.bundle) S.bundle = Object.assign({ received_at: Date.now() / 1000 }, state.bundle);
  if (state.counts) renderCounts(state.counts);
  renderBundle();
}

function renderBundle() {
  const b = S.bundle;
  if (!b) return;
  document.body.dataset.bundle = b.state;
  const now = Date.now() / 1000;
  const age = b.age_seconds + (now - b.received_at);
  const fresh = fmtInstant(b.fresh_until);
  if (b.state === "fresh") $("bundle-text").textContent = age < 90 ? fmt("bundleNew", { fresh }) : fmt("bundleAge", { age: fmtDuration(age), fresh });
  else if (b.state === "grace") $("bundle-text").textContent = fmt("bundleGrace", { age: fmtDuration(b.overdue_seconds) });
  else $("bundle-text").textContent = T[S.lang].bundleTooOld;
  const banner = $("banner");
  banner.hidden = b.state !== "grace";
  if (b.state === "grace") {
    $("banner-text").textContent = fmt("bannerGrace", { fresh, left: fmtDuration(b.grace_left_seconds) });
  }
  $("too-old-text").textContent = fmt("tooOldText", { issued: fmtInstant(b.issued_at), fresh, grace: b.grace_hours });
  if (b.state === "too_old") {
    clearVerdict();
    setScreen("too_old");
  } else if (S.screen === "too_old") {
    setScreen("idle");
  }
}

function renderCounts(counts) {
  $("count-green").textContent = counts.GREEN || 0;
  $("count-yellow").textContent = counts.YELLOW || 0;
  $("count-red").textContent = counts.RED || 0;
}

async function pollState() {
  try {
    applyState(await api("api/state"));
  } catch (err) { /* shown as offline or pairing */ }
}

// ---------------------------------------------------------------------------------------------
// screens

function setScreen(name) {
  S.screen = name;
  document.body.dataset.screen = name;
  $("verdict").hidden = name !== "verdict";
  $("too-old").hidden = name !== "too_old";
  $("pair").hidden = name !== "pair";
  $("scan").hidden = false;
  if (name === "pair") $("pair-token").focus();
  else focusScanner();
}

function focusScanner() {
  if (S.screen !== "pair" && document.activeElement !== $("scanner")) $("scanner").focus({ preventScroll: true });
}

function showPairing(message) {
  S.token = null;
  $("pair-status").textContent = message || "";
  setScreen("pair");
}

// ---------------------------------------------------------------------------------------------
// readings from the server: a verdict, an ID card, or nothing

function handleReading(reading, fromCamera) {
  if (reading.bundle) { S.bundle = Object.assign({ received_at: Date.now() / 1000 }, reading.bundle); renderBundle(); }
  if (reading.counts) renderCounts(reading.counts);
  const now = Date.now();
  if (reading.kind === "none" || reading.kind === "bundle_too_old") {
    if (S.lastCodeId && now - S.lastCodeSeen > CODE_GONE_MS) S.lastCodeId = null;
    return;
  }
  if (fromCamera && reading.code_id === S.lastCodeId) { S.lastCodeSeen = now; return; }
  S.lastCodeId = reading.code_id;
  S.lastCodeSeen = now;
  if (reading.kind === "verdict") showVerdict(reading.verdict);
  else if (reading.kind === "idcard") showCard(reading.card);
}

function showVerdict(verdict) {
  S.verdict = verdict;
  renderVerdict(verdict);
  setScreen("verdict");
  startCountdown();
  if (S.card && verdict.holder) compare(S.card);
}

function renderVerdict(v) {
  const L = T[S.lang];
  const el = $("verdict");
  el.dataset.colour = v.colour;
  el.dataset.reason = v.reason;
  $("verdict-icon").setAttribute("href", ICONS[v.colour]);
  $("verdict-word").textContent = v.label[S.lang];
  $("verdict-reason").textContent = v.message[S.lang];
  const rules = $("verdict-rules");
  rules.textContent = "";
  for (const line of (v.failed_rules && v.failed_rules[S.lang]) || []) {
    const item = document.createElement("li");
    item.textContent = line;
    rules.append(item);
  }
  el.classList.toggle("no-holder", !v.holder);
  el.classList.toggle("no-facts", !v.facts);
  clearPersonal();                       // nothing of the previous person stays in the page
  if (v.holder) {
    const h = v.holder;
    const name = $("holder-name");
    name.textContent = "";
    const fam = document.createElement("span");
    fam.className = "family";
    fam.textContent = h.family || h.family_std || "";
    name.append(fam, " ", h.given || h.given_std || "");
    const std = [h.family_std, h.given_std].filter(Boolean).join("<<");
    $("holder-std").textContent = std;
    $("holder-dob").textContent = fmtDate(h.birth_date);
    if (!v.identity) resetIdentity();
  }
  if (v.facts) {
    const f = v.facts;
    if (f.type === "v") $("fact-doses").textContent = f.dose_number ? `${f.dose_number}/${f.series_doses ?? "?"}` : L.none;
    else $("fact-doses").textContent = f.type === "t" ? L.testCert : L.recoveryCert;
    $("fact-last").textContent = fmtDate(f.last_date);
    $("fact-validity").textContent = validity(f);
  }
}

function clearPersonal() {
  for (const id of ["holder-name", "holder-std", "holder-dob", "fact-doses", "fact-last", "fact-validity", "identity-detail"]) {
    $(id).textContent = "";
  }
}

function validity(f) {
  // the pass's days in the policy's time zone: "from … through …" while not yet valid, else "through …"
  const L = T[S.lang];
  if (!f.last_day && !f.first_day) return L.none;
  if (f.valid_from && f.valid_until && S.bundle && Date.parse(f.valid_from) > Date.parse(S.bundle.now)) {
    return fmt("fromUntil", { a: fmtDate(f.first_day), b: fmtDate(f.last_day) });
  }
  if (!f.last_day) return fmt("from", { d: fmtDate(f.first_day) });
  if (f.until_time) return fmt("untilTime", { t: f.until_time, d: fmtDate(f.last_day) });
  return fmt("until", { d: fmtDate(f.last_day) });
}

function resetIdentity() {
  const box = $("identity");
  box.dataset.result = "";
  $("identity-icon").setAttribute("href", "#i-id");
  $("identity-title").textContent = T[S.lang].idPrompt;
  $("identity-detail").textContent = "";
}

function showCard(card) {
  if (S.screen === "verdict" && S.verdict && S.verdict.holder) {
    compare(card);
  } else {
    S.card = card;                       // kept in memory until the certificate comes or the screen clears
    $("scan-status").textContent = T[S.lang].idWaiting;
    setTimeout(() => { if (S.card === card && S.screen !== "verdict") { S.card = null; $("scan-status").textContent = ""; } },
               (S.config ? S.config.clear_after : 20) * 1000);
  }
}

async function compare(card) {
  const verdict = S.verdict;
  S.card = null;
  try {
    const answer = await postJson("api/match", { holder: verdict.holder, card });
    if (S.verdict !== verdict) return;
    verdict.identity = answer.identity;
    verdict.card = card;
    renderIdentity(answer.identity, card);
    startCountdown();                   // give staff the full time to read the comparison
  } catch (err) { /* offline or pairing: shown elsewhere */ }
}

function renderIdentity(identity, card) {
  const L = T[S.lang];
  const box = $("identity");
  box.dataset.result = identity.result;
  const icon = { match: "#i-green", mismatch: "#i-red", not_comparable: "#i-question" }[identity.result];
  $("identity-icon").setAttribute("href", icon);
  $("identity-title").textContent = { match: L.idMatch, mismatch: L.idMismatch, not_comparable: L.idNotComparable }[identity.result];
  let birth = L["part_" + identity.birth_date];
  if (identity.birth_date_precision && identity.birth_date_precision !== "day") birth += ` (${L["precision_" + identity.birth_date_precision]})`;
  $("identity-detail").textContent =
    `${L.idName}: ${L["part_" + identity.name]} · ${L.idBirth}: ${birth} — ${L.idCard}: ${card.name}, ${fmtDate(card.birth_date)}`;
}

function startCountdown() {
  const seconds = S.config ? S.config.clear_after : 20;
  clearTimeout(S.clearTimer);
  S.clearAt = Date.now() + seconds * 1000;
  const bar = $("countdown-bar");
  bar.style.transition = "none";
  bar.style.transform = "scaleX(1)";
  void bar.offsetWidth;
  bar.style.transition = `transform ${seconds}s linear`;
  bar.style.transform = "scaleX(0)";
  S.clearTimer = setTimeout(clearVerdict, seconds * 1000);
}

function clearVerdict() {
  clearTimeout(S.clearTimer);
  S.verdict = null;
  S.card = null;
  clearPersonal();
  resetIdentity();
  $("scan-status").textContent = "";
  const el = $("verdict");
  el.dataset.colour = "";
  el.dataset.reason = "";
  if (S.screen === "verdict") setScreen("idle");
}

// ---------------------------------------------------------------------------------------------
// inputs: scanner (keyboard wedge), camera

async function submitText(text, fromCamera) {
  text = text.trim();
  if (!text || S.screen === "too_old" || S.screen === "pair") return;
  try {
    handleReading(await postJson("api/text", { text }), fromCamera);
  } catch (err) { /* shown elsewhere */ }
}

async function startCamera() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { cameraOff(); return; }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: false, video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
    });
    const video = $("video");
    video.srcObject = stream;
    await video.play();
    S.camera = true;
    cameraLoop(video);
  } catch (err) {
    cameraOff();
  }
}

function cameraOff() {
  $("camera").classList.add("off");
  $("camera-off").hidden = false;
  document.body.classList.add("no-camera");
}

async function makeDetector() {
  if (!("BarcodeDetector" in window)) return null;
  try {
    const formats = await window.BarcodeDetector.getSupportedFormats();
    return formats.includes("qr_code") ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
  } catch (err) { return null; }
}

async function cameraLoop(video) {
  const detector = await makeDetector();
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d", { willReadFrequently: false });
  const tick = async () => {
    const started = Date.now();
    if (!S.busy && S.screen !== "pair" && S.screen !== "too_old" && video.readyState >= 2 && !document.hidden) {
      S.busy = true;
      try {
        if (detector) {
          const codes = await detector.detect(video);
          if (codes.length) await submitText(codes[0].rawValue, true);
          else handleReading({ kind: "none" }, true);
        } else {
          canvas.width = video.videoWidth;
          canvas.height = video.videoHeight;
          ctx.drawImage(video, 0, 0);
          const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
          if (blob) handleReading(await api("api/frame", { method: "POST", headers: { "Content-Type": "image/jpeg" }, body: blob }), true);
        }
      } catch (err) { /* offline or pairing */ }
      S.busy = false;
    }
    setTimeout(tick, Math.max(0, FRAME_INTERVAL_MS - (Date.now() - started)));
  };
  tick();
}

// ---------------------------------------------------------------------------------------------
// start

async function connect() {
  const state = await api("api/state");
  S.config = state.config;
  if (state.config.region || state.config.country) $("place").textContent = [state.config.country, state.config.region].filter(Boolean).join(" · ");
  setLang(S.lang_chosen || state.config.lang);
  applyState(state);
  if (S.screen === "pair") setScreen("idle");
  if (!S.camera) startCamera();
}

function tokenFromFragment() {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

document.addEventListener("DOMContentLoaded", () => {
  S.token = tokenFromFragment();
  const params = new URLSearchParams(location.search);
  if (params.get("lang") && T[params.get("lang")]) S.lang_chosen = params.get("lang");
  if (S.lang_chosen) setLang(S.lang_chosen);

  $("scanner-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = $("scanner").value;
    $("scanner").value = "";
    submitText(text, false);
  });
  $("scanner").addEventListener("blur", () => setTimeout(focusScanner, 0));
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") { clearVerdict(); return; }
    if (S.screen !== "pair" && ev.target !== $("scanner") && !ev.ctrlKey && !ev.metaKey && !ev.altKey && ev.key.length === 1) focusScanner();
  }, true);
  $("next").addEventListener("click", () => clearVerdict());
  for (const b of document.querySelectorAll(".lang")) b.addEventListener("click", () => { S.lang_chosen = b.dataset.lang; setLang(b.dataset.lang); });
  $("pair-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    S.token = $("pair-token").value.trim();
    $("pair-token").value = "";
    history.replaceState(null, "", `#token=${encodeURIComponent(S.token)}`);
    try { await connect(); } catch (err) { /* wrong token: pairing shown again */ }
  });
  connect().catch(() => {});
  setInterval(pollState, STATE_POLL_MS);
  setInterval(renderBundle, 30000);
  setInterval(focusScanner, 1000);
});
