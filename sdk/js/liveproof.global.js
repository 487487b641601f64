/* Generated from src/core.js by build.mjs: edit the source, then run `node build.mjs`. */
(function () {
"use strict";
var SCRIPT_URL = document.currentScript ? document.currentScript.src : "";
/* Liveproof Web SDK: embedded verification (the hosted page in an iframe) and headless continuous checks
   (frames of the integrator's own <video> over the capture socket). No dependencies, no external fetches.
   Reference: docs/sdk.md. This file is the source of liveproof.js (ES module) and liveproof.global.js
   (window.Liveproof); `node build.mjs` writes both. */
var VERSION = "1.0.0";
var SDK_PATH = "/sdk/v1/";

function serviceOrigin(baseUrl) {
  if (baseUrl) { return new URL(baseUrl, location.href).origin; }
  // Loaded from the service itself (/sdk/v1/...): that origin is the service.
  if (SCRIPT_URL && SCRIPT_URL.indexOf(SDK_PATH) > 0) { return new URL(SCRIPT_URL).origin; }
  throw new Error("Liveproof: pass baseUrl (the Liveproof service's URL).");
}

function sessionOfToken(token) {
  var parts = String(token || "").split(".");
  if (parts.length !== 3) { throw new Error("Liveproof: sessionToken is not a session token."); }
  var text = atob(parts[1].replace(/-/g, "+").replace(/_/g, "/") + "===".slice((parts[1].length + 3) % 4));
  var sub = JSON.parse(text).sub;
  if (!/^[0-9a-f-]{36}$/i.test(sub || "")) { throw new Error("Liveproof: sessionToken names no session."); }
  return sub;
}

function call(fn) {
  if (typeof fn !== "function") { return; }
  try { fn.apply(null, Array.prototype.slice.call(arguments, 1)); } catch (e) { setTimeout(function () { throw e; }); }
}

function serviceError(operation, code, message) {
  return { operation: operation, code: code, message: message || code };
}

/* --- Embedded: the hosted page in an iframe ---------------------------------------------------------- */

function mount(element, options) {
  options = options || {};
  if (!element || typeof element.appendChild !== "function") { throw new Error("Liveproof.mount: pass a DOM element."); }
  var url;
  if (options.sessionUrl) {
    url = new URL(options.sessionUrl, location.href);
  } else if (options.sessionId && options.accessToken) {
    url = new URL("/s/" + encodeURIComponent(options.sessionId) + "/", serviceOrigin(options.baseUrl));
    url.searchParams.set("t", options.accessToken);
  } else {
    throw new Error("Liveproof.mount: pass sessionUrl, or sessionId and accessToken.");
  }
  if (options.locale) { url.searchParams.set("locale", options.locale); }
  var origin = url.origin;
  var frame = document.createElement("iframe");
  frame.src = url.href;
  frame.allow = "camera";
  frame.title = options.title || "Identity verification";
  frame.setAttribute("data-liveproof", "embedded");
  frame.style.cssText = "width:100%;height:" + (options.height || "640px") + ";border:0;display:block;";
  var done = false;

  function onMessage(event) {
    // Strict: only the hosted page in this very frame, from the service's origin.
    if (event.origin !== origin || event.source !== frame.contentWindow) { return; }
    var data = event.data;
    if (!data || data.source !== "liveproof") { return; }
    if (data.type === "completed" && !done) {
      done = true;
      call(options.onVerificationCompleted, {
        verificationSessionId: data.verificationSessionId,
        verificationResult: data.verificationResult,
        redirectedTo: data.redirectedTo || null
      });
    } else if (data.type === "error") {
      call(options.onServiceError, serviceError(data.operation, data.code, data.message));
    } else if (data.type === "cancelled" && !done) {
      done = true;
      call(options.onCancel, { verificationSessionId: data.verificationSessionId });
    }
  }
  window.addEventListener("message", onMessage);
  element.appendChild(frame);
  return {
    element: frame,
    unmount: function () {
      window.removeEventListener("message", onMessage);
      if (frame.parentNode) { frame.parentNode.removeChild(frame); }
    }
  };
}

/* --- Headless: the integrator's own video, checked continuously --------------------------------------- */

function cameraOpen() {
  // No camera API outside a secure context (a page over plain HTTP other than localhost): no camera, as the hosted
  // page reports it, never a TypeError thrown at the app.
  if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== "function") {
    var missing = new Error("No camera: the page is not a secure context (https), or the browser has no camera API.");
    missing.name = "NotFoundError";
    return Promise.reject(missing);
  }
  return navigator.mediaDevices.getUserMedia({ audio: false, video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } } });
}

function videoOf(source) {
  if (typeof MediaStream !== "undefined" && source instanceof MediaStream) {
    var video = document.createElement("video");  // never attached: nothing is shown
    video.muted = true;
    video.playsInline = true;
    video.srcObject = source;
    return video.play().then(function () { return video; }, function () { return video; });
  }
  return Promise.resolve(source);
}

function watch(options) {
  options = options || {};
  var sessionId = sessionOfToken(options.sessionToken);
  var wsUrl = serviceOrigin(options.baseUrl).replace(/^http/, "ws") + "/ws/v1/sessions/" + sessionId + "/";
  var intervalMs = Math.max(Number(options.intervalMs) || 2000, 100);
  var keepChecking = options.checks !== false;
  var token = options.sessionToken, ws = null, video = null, timer = null, stopped = false;
  var retry = null;  // the pending reconnect: stop() cancels it
  var announced = false;  // this socket's error message was reported: its close is the same problem
  var camera = null;  // the camera this watcher opened itself (never the app's own video): turned off by stop()
  var reconnects = 0, phase = "capture", minInterval = 500, completed = false, encoding = false;
  // Backpressure as on the hosted page: one frame unanswered at a time (the server drops any beyond it while
  // its workers are behind), at most a second's wait (a frame it skipped is never answered).
  var framesSent = 0, framesAnswered = 0, lastSentAt = 0;
  function paced() { return framesSent - framesAnswered >= 1 && Date.now() - lastSentAt < 1000; }
  var canvas = document.createElement("canvas");

  function fail(operation, code, message) { call(options.onServiceError, serviceError(operation, code, message)); }

  function send() {
    // One picture at a time: on a busy machine JPEG encodes lag, and queued ones would reach the socket in a
    // burst (which it closes as a flood, 4429).
    if (encoding || stopped || !ws || ws.readyState !== 1 || ws.bufferedAmount > 1000000 || !video || !video.videoWidth || paced()) { return; }
    var scale = Math.min(1, 640 / video.videoWidth);
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    encoding = true;
    canvas.toBlob(function (blob) {
      encoding = false;
      // Never closer than the service's frame interval (10 fps): a frame that comes too soon is dropped unanswered.
      if (blob && ws && ws.readyState === 1 && !stopped && Date.now() - lastSentAt >= 100) {
        ws.send(blob); framesSent += 1; lastSentAt = Date.now();
      }
    }, "image/jpeg", 0.85);
  }
  function pace(ms) { if (timer) { clearInterval(timer); } timer = setInterval(send, ms); }
  function halt() { if (timer) { clearInterval(timer); timer = null; } }

  function handle(msg) {
    if ((msg.type === "feedback" || msg.type === "check") && msg.frame) { framesAnswered = Math.max(framesAnswered, msg.frame); }
    switch (msg.type) {
      case "state":
        if (msg.resumeToken) { token = msg.resumeToken; reconnects = 0; }
        if (msg.status === "in_progress" && phase === "capture") { pace(110); }
        else if (msg.status === "analysing") { halt(); }
        break;
      case "result":
        if (msg.verdict === "retry") {
          if (msg.attemptsLeft > 0 && ws) { ws.send(JSON.stringify({ type: "retry" })); }
          break;
        }
        halt();
        if ((msg.reasons || []).indexOf("sessionExpired") >= 0) {
          // Expired, not a failed verification: reported as the hosted page reports it (docs/sdk.md).
          fail("session", "sessionExpired", "This verification has expired.");
          stop();
          break;
        }
        if (!completed) {
          completed = true;
          call(options.onVerificationCompleted, { verificationSessionId: sessionId, verificationResult: msg.verificationResult, reasons: msg.reasons || [] });
        }
        if (msg.verdict !== "pass") { fail("verify", "verificationFailed", (msg.reasons || []).join(", ") || "The verification did not pass."); stop(); }
        else if (!keepChecking) { stop(); }
        break;
      case "token":
        token = msg.resumeToken;  // a fresh resume token: the socket has been open for long (checks last an hour)
        break;
      case "watch":
        phase = "watch";
        minInterval = msg.minIntervalMs || minInterval;
        pace(Math.max(intervalMs, minInterval));
        break;
      case "check":
        call(options.onCheck, { samePerson: msg.samePerson, similarity: msg.similarity, faceCount: msg.faceCount, live: msg.live, alert: msg.alert });
        break;
      case "challenge":
        call(options.onChallenge, { challenge: msg.challenge, index: msg.index, total: msg.total, reprompt: Boolean(msg.reprompt) });
        break;
      case "error":
        if (msg.code === "notCapturing" || msg.code === "badFrame") { break; }
        announced = true;
        fail("socket", msg.code, msg.message);
        break;
    }
  }

  function connect() {
    retry = null;
    if (stopped) { return; }
    ws = new WebSocket(wsUrl);
    announced = false;
    ws.binaryType = "arraybuffer";
    framesSent = 0; framesAnswered = 0;  // the server counts frames per connection
    ws.onopen = function () {
      var auth = { type: "auth", token: token, watch: keepChecking };
      // Your app's own id of this device (docs/entry.md "Devices"); the service keeps only its hash.
      if (typeof options.deviceId === "string") { auth.deviceId = options.deviceId; }
      ws.send(JSON.stringify(auth));
    };
    ws.onmessage = function (event) { if (typeof event.data === "string") { handle(JSON.parse(event.data)); } };
    ws.onclose = function (event) {
      halt();
      if (stopped) { return; }
      if (event.code === 4410 && completed) { stop(); return; }
      var terminal = { 4401: "tokenRefused", 4403: "wrongSession", 4404: "unknownSession", 4409: "tokenUsed", 4410: "sessionFinished", 4411: "superseded", 4429: "flood" };
      if (terminal[event.code]) {
        // One report per problem: a refusal the socket explained (tokenExpired, then 4401) was reported already.
        if (!announced) { fail("connection", terminal[event.code], "The service closed the connection (" + event.code + ")."); }
        stop();
        return;
      }
      if (reconnects < 5) { reconnects += 1; retry = setTimeout(connect, 800 * reconnects); return; }
      fail("connection", "connectionLost", "The connection to the verification service was lost.");
      stop();
    };
  }

  function stop() {
    if (stopped) { return; }
    stopped = true;
    halt();
    if (retry) { clearTimeout(retry); retry = null; }
    if (ws && ws.readyState <= 1) { ws.close(1000); }
    release();
  }
  function release() {
    if (camera) { camera.getTracks().forEach(function (track) { track.stop(); }); camera = null; }
  }

  var source = options.video ? Promise.resolve(options.video) : cameraOpen().then(function (stream) {
    camera = stream;
    if (stopped) { release(); }  // stopped while the camera was opening
    return stream;
  });
  source.then(videoOf).then(function (v) { video = v; if (!stopped) { connect(); } }, function (err) {
    var name = err && err.name;
    // There but would not start (another app or tab holds it) is cameraInUse, as on the hosted page.
    var busy = name === "NotReadableError" || name === "TrackStartError" || name === "AbortError";
    var code = name === "NotAllowedError" || name === "SecurityError" ? "cameraDenied" : busy ? "cameraInUse" : "cameraMissing";
    fail("camera", code, String(err && err.message || err));
  });
  return { sessionId: sessionId, stop: stop };
}

var Liveproof = { version: VERSION, mount: mount, watch: watch };

window.Liveproof = Liveproof;
})();
