/* Liveproof hosted page: consent -> camera -> capture over the WebSocket -> result -> redirect.
   Protocol: docs/websocket.md; screens: docs/sessions.md ("Hosted page"). No dependencies, no CDN. */
(function () {
  "use strict";
  var boot = JSON.parse(document.getElementById("boot").textContent);
  // Every word on screen comes from the server's gettext catalogues, in the page's language
  // (apps/sessions/page_texts.py); the socket's codes never reach the screen.
  var T = boot.texts, UI = T.ui;
  // Opened with a session token (the Web SDK): the address keeps the page key instead, which lives as long as
  // the session, so that a reload later than the token's ten minutes still opens this page.
  if (boot.pageKey && /[?&]t=/.test(location.search) && window.history && history.replaceState) {
    history.replaceState(history.state, "", location.pathname + location.search.replace(/([?&])t=[^&]*/, "$1k=" + encodeURIComponent(boot.pageKey)) + location.hash);
  }
  function fill(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (all, name) { return String(values[name]); });
  }
  // Close codes after which reconnecting cannot help: values of apps/sessions/protocol.py's CloseCode.
  var TERMINAL_CLOSE = { 4401: "expired", 4403: "connection", 4404: "connection", 4409: "connection", 4410: "expired", 4411: "superseded" };

  // Problem screens the embedder hears about (the Web SDK's onServiceError): operation, code, message.
  var PROBLEMS = {
    "camera-denied": ["camera", "cameraDenied", "Camera access was blocked."],
    "camera-missing": ["camera", "cameraMissing", "No camera, or not a secure context."],
    "camera-in-use": ["camera", "cameraInUse", "The camera is in use by another app."],
    connection: ["connection", "connectionLost", "The connection to the verification service was lost."],
    expired: ["session", "sessionExpired", "This verification has expired."],
    superseded: ["socket", "superseded", "The verification continued in another window or device."]
  };
  // Screens where the capture is over: the camera goes off (a button there asks for it again).
  var CAMERA_OFF = { connection: true, expired: true, superseded: true };
  var retryWanted = false;  // the retry button was pressed while no socket was open
  var token = boot.token, ws = null, stream = null, timer = null, finished = false, capturing = false;
  var reconnects = 0, later = null, polling = false, watchdog = null, tokenExpired = false;
  var countdown = null, helpTimer = null, lastUsable = 0, captureBegun = false;
  // A move is asked for (a challenge is on screen): "Good, hold it there" would then contradict it.
  var moveAsked = false;
  // Frames sent on this connection and the last one answered (feedback's "frame"): see paced().
  var framesSent = 0, framesAnswered = 0, lastSentAt = 0;
  // The challenge's seconds left as the server last said (``leftMs`` at ``leftAt``); frozen while paused.
  var leftMs = 0, leftAt = 0, paused = false;
  // Feedback codes that mean the face is there and usable (the rest: missing, off-centre, too far, too dark…).
  var USABLE = ["ok", "holdStill", "tooBlurry", "moveBack"];
  // Analysing for longer than this without a result over the socket: ask the database instead
  // (a worker may have died after storing the verdict; the channel layer delivers at most once).
  var ANALYSIS_WATCHDOG_MS = 4000;
  var video = document.getElementById("video");
  var canvas = document.createElement("canvas");

  function $(id) { return document.getElementById(id); }
  function show(name) {
    var sections = document.querySelectorAll(".screen");
    for (var i = 0; i < sections.length; i++) { sections[i].hidden = sections[i].getAttribute("data-name") !== name; }
    document.body.setAttribute("data-screen", name);
    if (CAMERA_OFF[name]) { stopFrames(); stopCamera(); }
    if (PROBLEMS[name]) { tellParent({ type: "error", operation: PROBLEMS[name][0], code: PROBLEMS[name][1], message: PROBLEMS[name][2] }); }
    var heading = document.querySelector('.screen[data-name="' + name + '"] h1');
    if (heading) { heading.focus({ preventScroll: true }); }
  }
  function setFeedback(text, warn) { var el = $("feedback"); el.textContent = text; el.classList.toggle("warn", !!warn); }

  function stopCamera() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
  }
  function startCamera() {
    show("camera");
    stopCamera();
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { show("camera-missing"); return; }
    navigator.mediaDevices.getUserMedia({ audio: false, video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } } })
      .then(function (s) { stream = s; video.srcObject = s; return video.play().catch(function () {}); })
      .then(function () { if (stream) { captureBegun = true; reconnectNow(); } })
      .catch(function (err) {
        var name = err && err.name;
        if (name === "NotAllowedError" || name === "SecurityError") { show("camera-denied"); }
        // There, but it would not start: another app (or tab) holds it, most often.
        else if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") { show("camera-in-use"); }
        else { show("camera-missing"); }
      });
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(scheme + location.host + boot.wsPath);
    ws.binaryType = "arraybuffer";
    framesSent = 0; framesAnswered = 0;  // the server counts frames per connection
    ws.onopen = function () { ws.send(JSON.stringify({ type: "auth", token: token })); };
    ws.onmessage = function (event) { if (typeof event.data === "string") { handle(JSON.parse(event.data)); } };
    ws.onclose = function (event) {
      stopFrames();
      if (finished) { return; }
      if (tokenExpired && reconnects < 5) {
        // The page sat open longer than a token lives: it asks for a fresh one with its page key and connects
        // again (a reload would spend the attempt under way).
        tokenExpired = false; reconnects += 1;
        connectFresh();
        return;
      }
      if (TERMINAL_CLOSE[event.code]) { poll(TERMINAL_CLOSE[event.code]); return; }
      if (reconnects < 5) { reconnects += 1; later = setTimeout(connect, 800 * reconnects); } else { poll("connection"); }
    };
  }

  // A socket with a fresh token for the page key (the page's own token was spent or refused).
  function connectFresh() {
    fetch(boot.statusUrl + "&token=1", { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) { if (body && body.token) { token = body.token; connect(); } else { poll("connection"); } })
      .catch(function () { poll("connection"); });
  }
  // A new socket now, in place of the one open (if any), with the resume token: the server restarts the current
  // attempt cleanly and it costs no attempt (docs/sessions.md "Reconnect"). A reload would spend an attempt
  // that has named a challenge, so the page's own buttons never reload during a capture.
  function reconnectNow() {
    reconnects = 0;
    if (later) { clearTimeout(later); later = null; }
    if (ws) {
      var old = ws; ws = null;
      old.onclose = null; old.onmessage = null;
      if (old.readyState <= 1) { old.close(1000); }
    }
    stopFrames();
    if (token) { connect(); } else { connectFresh(); }
  }

  function handle(msg) {
    switch (msg.type) {
      case "state":
        if (msg.resumeToken) { token = msg.resumeToken; reconnects = 0; }
        if (retryWanted) { retryWanted = false; ws.send(JSON.stringify({ type: "retry" })); break; }
        $("steps").textContent = msg.challengesTotal ? fill(UI.attempt, { attempt: msg.attempt, total: msg.maxAttempts }) : "";
        if (msg.status === "in_progress") { startCapture(msg); }
        else if (msg.status === "analysing") { stopFrames(); show("analysing"); armWatchdog(); }
        break;
      case "token": token = msg.resumeToken; break;  // a fresh resume token for a socket open for long
      case "challenge":
        // A fresh challenge in place of one not answered in time: say so, so the change is not a surprise.
        $("reprompt").textContent = msg.reprompt ? UI.reprompt : ""; $("reprompt").hidden = !msg.reprompt;
        $("challenge").textContent = T.challenges[msg.challenge] || "";
        $("steps").textContent = fill(UI.step, { step: msg.index + 1, total: msg.total });
        cue(msg.challenge);
        moveAsked = true;
        if ($("feedback").textContent === T.feedback.ok) { setFeedback("", false); }
        break;
      case "feedback":
        if (msg.frame) { framesAnswered = Math.max(framesAnswered, msg.frame); }
        if (msg.codes.indexOf("slowDown") >= 0) { return; }
        var code = msg.codes[0] || "ok";
        document.body.classList.toggle("face-ok", code === "ok");
        // A face that is there, centred and lit: what the help timer waits for.
        if (USABLE.indexOf(code) >= 0) { lastUsable = Date.now(); }
        if (T.feedback[code]) { setFeedback(code === "ok" && moveAsked ? "" : T.feedback[code], code !== "ok"); }
        break;
      case "progress":
        var pct = Math.round(msg.progress * 100);
        $("progress-bar").style.width = pct + "%";
        $("progress").setAttribute("aria-valuenow", String(pct));
        if (typeof msg.challengeSecondsLeft === "number") { leftMs = msg.challengeSecondsLeft * 1000; leftAt = Date.now(); }
        setPaused(!!msg.paused);
        break;
      case "result": showResult(msg); break;
      case "error":
        if (msg.code === "tokenExpired") { tokenExpired = true; }
        if (msg.code === "tokenExpired" || msg.code === "tokenUsed" || msg.code === "invalidToken") { token = null; }
        break;
    }
  }

  // Each challenge: an animated cue (CSS, by challenge name) and the seconds left to do it.
  function cue(name) {
    $("cue").setAttribute("data-cue", name || ""); $("cue").hidden = !name;
    $("countdown").hidden = !name;
    if (countdown) { clearInterval(countdown); countdown = null; }
    if (!name) { return; }
    leftMs = boot.challengeSeconds * 1000; leftAt = Date.now();
    tick();
    countdown = setInterval(tick, 200);
  }
  function tick() {
    var ms = Math.max(0, paused ? leftMs : leftMs - (Date.now() - leftAt));
    $("countdown-text").textContent = fill(UI.secondsLeft, { seconds: Math.ceil(ms / 1000) });
    $("countdown-bar").style.width = (100 * ms / (boot.challengeSeconds * 1000)) + "%";
  }
  // No usable face (the server's word, docs/websocket.md "progress"): the seconds and the progress stand
  // still, and say so, until the face is usable again.
  function setPaused(now) {
    if (now === paused) { return; }
    if (now) { leftMs = Math.max(0, leftMs - (Date.now() - leftAt)); }
    leftAt = Date.now(); paused = now;
    $("paused").hidden = !now;
    $("countdown").classList.toggle("paused", now);
    if (countdown) { tick(); }
  }
  // No usable face for HELP_AFTER seconds: stop sending frames and offer help and a fresh start.
  function watchHelp() {
    if (helpTimer) { clearInterval(helpTimer); }
    lastUsable = Date.now();
    helpTimer = setInterval(function () {
      if (!capturing) { return; }
      if (Date.now() - lastUsable >= boot.helpAfterSeconds * 1000) {
        stopFrames(); cue(null); clearInterval(helpTimer); helpTimer = null;
        $("help").hidden = false; $("help-title").focus();
      }
    }, 500);
  }

  function startCapture(state) {
    show("capture");
    $("help").hidden = true; $("reprompt").hidden = true; cue(null); watchHelp(); setPaused(false);
    // A new attempt (after Try again) or the same one restarted (a reconnect): nothing of the last one stays on
    // screen, neither its prompt, hint, green oval nor progress.
    var prompt = state.mode === "passive" ? UI.lookAndHold : UI.positionFace;  // said again only when it changes
    if ($("challenge").textContent !== prompt) { $("challenge").textContent = prompt; }
    setFeedback(UI.gettingReady, false); moveAsked = false;
    document.body.classList.remove("face-ok");
    $("progress-bar").style.width = "0%"; $("progress").setAttribute("aria-valuenow", "0");
    $("cancel-confirm").hidden = true; $("cancel").hidden = false; $("cancel-yes").disabled = false;
    capturing = true;
    if (timer) { return; }
    var interval = Math.ceil(1100 / boot.maxFps);
    timer = setInterval(sendFrame, interval);
  }
  function stopFrames() {
    capturing = false;
    if (timer) { clearInterval(timer); timer = null; }
    if (countdown) { clearInterval(countdown); countdown = null; }
  }

  // Backpressure: while maxInFlight frames are unanswered the workers are behind, and the server would drop
  // another one; wait for an answer instead (at most a second: a frame the server skipped is never answered).
  function paced() { return framesSent - framesAnswered >= boot.maxInFlight && Date.now() - lastSentAt < 1000; }

  function sendFrame() {
    if (!capturing || !ws || ws.readyState !== 1 || ws.bufferedAmount > 1000000 || !video.videoWidth || paced()) { return; }
    var scale = Math.min(1, 640 / video.videoWidth);
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(function (blob) {
      // Never closer than the frame interval: JPEG encodes take uneven times, and a frame that reaches the
      // server too soon after the last is dropped for speed, unanswered (a second's wait for a paced page).
      if (blob && blob.size <= boot.maxFrameBytes && ws && ws.readyState === 1 && capturing && !paced() &&
          Date.now() - lastSentAt >= 1000 / boot.maxFps) {
        ws.send(blob); framesSent += 1; lastSentAt = Date.now();
      }
    }, "image/jpeg", 0.85);
  }

  function armWatchdog() {
    if (watchdog) { clearTimeout(watchdog); }
    watchdog = setTimeout(function () { watchdog = null; poll(null, true); }, ANALYSIS_WATCHDOG_MS);
  }

  // Why the attempt did not pass and what to change: the texts of its first two reasons, never a code.
  function showReasons(reasons, title) {
    var texts = [];
    (reasons || []).forEach(function (code) {
      var text = T.reasons[code] || UI.fallbackReason;
      if (texts.indexOf(text) < 0 && texts.length < 2) { texts.push(text); }
    });
    var list = $("result-reasons");
    list.textContent = "";
    texts.forEach(function (text) { var item = document.createElement("li"); item.textContent = text; list.appendChild(item); });
    $("result-why-title").textContent = title || "";
    $("result-why").hidden = texts.length === 0;
  }

  function showResult(msg) {
    if (finished) { return; }  // the socket and the status poll may both deliver it
    if (watchdog) { clearTimeout(watchdog); watchdog = null; }
    stopFrames();
    var badge = $("result-badge");
    badge.className = "badge " + msg.verdict;
    $("retry").hidden = true; $("continue").hidden = true; $("redirect-note").hidden = true;
    var reasons = msg.reasons || [];
    if (msg.verdict === "retry") {
      $("result-title").textContent = UI.retryTitle;
      $("result-text").textContent = T.attemptsLeft[String(msg.attemptsLeft)] || "";
      showReasons(reasons.length ? reasons : ["fallback"], UI.retryWhy);
      $("retry").hidden = false;
      show("result");
      return;
    }
    finished = true;
    if (reasons.indexOf("sessionExpired") >= 0) {
      // Expired while the page was open: the same screen and embedder error as a session found expired
      // on arrival (docs/sdk.md), not a failed verification.
      show("expired");
      if (ws && ws.readyState === 1) { ws.close(1000); }
      return;
    }
    if (msg.verdict === "pass") {
      $("result-title").textContent = UI.verified;
      $("result-text").textContent = UI.verifiedText;
      showReasons([]);
    } else if (reasons.indexOf("cancelled") >= 0) {
      $("result-title").textContent = UI.cancelled;
      $("result-text").textContent = T.reasons.cancelled;
      showReasons([]);
    } else {
      $("result-title").textContent = UI.failed;
      $("result-text").textContent = UI.failedText;
      showReasons(reasons, UI.failedWhy);
    }
    stopCamera();
    show("result");
    if ((msg.reasons || []).indexOf("cancelled") >= 0) { tellParent({ type: "cancelled" }); }
    else { tellParent({ type: "completed", verificationResult: msg.verificationResult, redirectedTo: msg.redirectUrl || null }); }
    if (boot.handedOff) {
      // Opened with a code from another device: that device follows the session and takes the redirect.
      $("handed-off-note").hidden = false;
    } else if (msg.redirectUrl) {
      var link = $("continue");
      link.href = msg.redirectUrl; link.hidden = false; $("redirect-note").hidden = false;
      tellEmbedder(msg.redirectUrl);
      // A failure lists why: time to read it (Continue goes at once).
      var failedWithReasons = msg.verdict !== "pass" && !$("result-why").hidden;
      setTimeout(function () { location.assign(msg.redirectUrl); }, failedWithReasons ? 10000 : 2500);
    }
    if (ws && ws.readyState === 1) { ws.close(1000); }
  }

  // In an integrator's iframe or popup: tell that page where the user goes next. Only the
  // account's allowed origins may receive it (postMessage drops any other target origin).
  function tellEmbedder(url) {
    var targets = [];
    if (window.parent && window.parent !== window) { targets.push(window.parent); }
    if (window.opener) { targets.push(window.opener); }
    targets.forEach(function (target) {
      (boot.embedOrigins || []).forEach(function (origin) {
        try { target.postMessage({ redirectedTo: url }, origin); } catch (e) { /* a closed opener */ }
      });
    });
  }

  // In an integrator's iframe (the Web SDK, docs/sdk.md): every outcome and problem, addressed to each allowed
  // origin only, whether or not a redirect URL is set.
  function tellParent(data) {
    if (!window.parent || window.parent === window) { return; }
    data.source = "liveproof";
    data.verificationSessionId = boot.sessionId;
    (boot.embedOrigins || []).forEach(function (origin) {
      try { window.parent.postMessage(data, origin); } catch (e) { /* a detached frame */ }
    });
  }

  // The database is the source of truth: when the socket cannot tell us, ask it. ``quiet``: the socket
  // is still open (the analysis watchdog), so a session that is not analysing any more is left to it.
  function poll(fallback, quiet) {
    if (polling) { return; }
    polling = true;
    var tries = 0;
    function once() {
      if (finished) { polling = false; return; }
      fetch(boot.statusUrl, { cache: "no-store" }).then(function (r) { return r.ok ? r.json() : null; }).then(function (body) {
        if (body && body.result) { polling = false; showResult(body.result); return; }
        if (body && body.status === "analysing" && tries < 60) { show("analysing"); tries += 1; setTimeout(once, 1000); return; }
        polling = false;
        if (quiet) { return; }
        if (body && body.status === "expired") { show("expired"); return; }
        show(fallback === "expired" || fallback === "superseded" ? fallback : "connection");
      }).catch(function () { polling = false; if (!quiet) { show("connection"); } });
    }
    once();
  }

  // Continue on a phone: a short code and its QR code open this session there; this page follows the
  // session on the status poll and shows its result (and takes its redirect) when the phone is done.
  var following = null, codeExpiry = null;
  function startHandoff() {
    $("handoff-new").hidden = true; $("handoff-expired").hidden = true;
    fetch(boot.handoffUrl, { method: "POST", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) { poll("connection"); return; }
        $("handoff-qr").src = body.qrCode;
        $("handoff-address").textContent = body.entryUrl;
        $("handoff-code").textContent = body.code;
        show("handoff");
        if (codeExpiry) { clearTimeout(codeExpiry); }
        codeExpiry = setTimeout(function () {
          $("handoff-code").textContent = ""; $("handoff-qr").removeAttribute("src");
          $("handoff-expired").hidden = false; $("handoff-new").hidden = false;
        }, body.expiresInSeconds * 1000);
        follow();
      })
      .catch(function () { show("connection"); });
  }
  function follow() {
    if (following) { return; }
    following = setInterval(function () {
      fetch(boot.statusUrl, { cache: "no-store" }).then(function (r) { return r.ok ? r.json() : null; }).then(function (body) {
        if (!body) { return; }
        if (body.result && body.result.verdict !== "retry") { clearInterval(following); showResult(body.result); return; }
        if (body.status === "expired") { clearInterval(following); show("expired"); return; }
        var started = body.status !== "created";
        $("handoff-waiting").hidden = started; $("handoff-active").hidden = !started;
        if (started && codeExpiry) {
          clearTimeout(codeExpiry); codeExpiry = null;
          $("handoff-code").textContent = ""; $("handoff-qr").removeAttribute("src"); $("handoff-qr").hidden = true;
        }
      }).catch(function () { /* the next tick asks again */ });
    }, 2000);
  }
  var handoffs = document.querySelectorAll('[data-action="handoff"]');
  for (var h = 0; h < handoffs.length; h++) {
    handoffs[h].hidden = false;
    handoffs[h].addEventListener("click", startHandoff);
  }
  $("handoff-new").addEventListener("click", startHandoff);

  // The consent form posts by itself before this script runs; from here on the page answers in place.
  // Declining (and cancelling without a socket) posts the same form for JSON: the session ends cancelled.
  function decline() {
    $("consent-accept").disabled = true; $("consent-decline").disabled = true;
    fetch(boot.consentUrl, { method: "POST", cache: "no-store", headers: { Accept: "application/json" },
                             body: new URLSearchParams({ choice: "decline" }) })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) { if (body && body.result) { showResult(body.result); } else { show("connection"); } })
      .catch(function () { show("connection"); });
  }
  $("consent-accept").addEventListener("click", function (event) { event.preventDefault(); startCamera(); });
  $("consent-decline").addEventListener("click", function (event) { event.preventDefault(); decline(); });
  $("retry").addEventListener("click", function () {
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify({ type: "retry" })); return; }
    // The socket is gone (closed by the server, or the reconnects ran out and the result came from the
    // status poll): open a new one and ask for the next attempt as soon as it is in.
    retryWanted = true; reconnects = 0; connect();
  });
  // Cancel asks once: a question under the button, "No, continue" first.
  function askCancel(open) {
    $("cancel-confirm").hidden = !open; $("cancel").hidden = open;
    $("cancel").setAttribute("aria-expanded", String(open));
    (open ? $("cancel-question") : $("cancel")).focus();
  }
  $("cancel").addEventListener("click", function () { askCancel(true); });
  $("cancel-no").addEventListener("click", function () { askCancel(false); });
  $("cancel-yes").addEventListener("click", function () {
    $("cancel-yes").disabled = true;
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify({ type: "cancel" })); } else { decline(); }
  });
  // A fresh start after the help offer: the same attempt again on a new socket (its state message brings the
  // capture back), never a reload, which would spend the attempt once a challenge was named.
  $("help-retry").addEventListener("click", function () {
    $("help").hidden = true; setFeedback(UI.gettingReady, false);
    if (stream) { reconnectNow(); } else { startCamera(); }
  });
  // The connection screen: the camera and a new socket again, with the resume token (no reload); before the
  // capture began (a failed decline), a reload, which costs nothing then.
  $("connection-retry").addEventListener("click", function () {
    if (captureBegun) { startCamera(); } else { location.reload(); }
  });
  $("camera-in-use-retry").addEventListener("click", function () { startCamera(); });
  // Another tab or device took the session over: only the person's own tap takes it back (that one then stops).
  $("superseded-continue").addEventListener("click", function () { startCamera(); });
  var reloads = document.querySelectorAll('[data-action="reload"]');
  for (var i = 0; i < reloads.length; i++) { reloads[i].addEventListener("click", function () { location.reload(); }); }
  // The integrator may have collected consent already (commonSettings.showConsentScreen: false).
  if (boot.consent === false) { startCamera(); } else { show("consent"); }
})();
