// GenesisSync status page: live updates from /api/events/stream
// (Server-Sent Events). The page is complete without this script; it only
// keeps the values current. Data is only ever written with textContent
// and className, never as HTML: file names come from users and buckets.
"use strict";
(function () {
  var live = document.getElementById("live");
  var serverNow = Date.now(); // the snapshot's clock, so "ago" ignores the client's

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function parse(t) {
    if (!t || t.indexOf("0001-01-01") === 0) { return null; }
    var ms = Date.parse(t);
    return isNaN(ms) ? null : ms;
  }
  function duration(sec) {
    if (sec < 1) { return "now"; }
    sec = Math.floor(sec);
    if (sec < 60) { return sec + "s"; }
    if (sec < 3600) { return Math.floor(sec / 60) + "m" + pad(sec % 60) + "s"; }
    if (sec < 48 * 3600) { return Math.floor(sec / 3600) + "h" + pad(Math.floor(sec / 60) % 60) + "m"; }
    return Math.floor(sec / 86400) + "d" + pad(Math.floor(sec / 3600) % 24) + "h";
  }
  function bytes(n) {
    n = Math.floor(n || 0);
    if (n < 1024) { return n + " B"; }
    var units = "KMGTPE", i = -1;
    do { n /= 1024; i++; } while (n >= 1024 && i < units.length - 1);
    return n.toFixed(1) + " " + units.charAt(i) + "iB";
  }
  var formats = {
    "": function (v) {
      if (v === null || v === undefined) { return ""; }
      if (Array.isArray(v)) { return v.join(", "); }
      return String(v);
    },
    bytes: bytes,
    ubytes: bytes,
    freebytes: function (v) { return bytes(v) + " free"; },
    used: function (v) { return Math.round(v || 0) + "% used"; },
    scrub: function (v) { var t = parse(v); return t === null ? "" : "last scrub " + duration((serverNow - t) / 1000) + " ago"; },
    held: function (v) { return v ? "held" : ""; },
    job: function (v) { return v ? v.kind + " " + v.id + " running: " + v.phase + ", " + v.files + "/" + v.files_total + " files" : ""; },
    rate: function (v) { return bytes(v) + "/s"; },
    count: function (v) { return String(v ? v.length : 0); },
    ago: function (v) { var t = parse(v); return t === null ? "never" : duration((serverNow - t) / 1000) + " ago"; },
    since: function (v) { var t = parse(v); return t === null ? "" : duration((serverNow - t) / 1000); },
    clock: function (v) {
      var t = parse(v);
      if (t === null) { return "never"; }
      var d = new Date(t);
      return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
        pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
    },
    air: function (v) {
      var t = parse(v);
      if (t === null) { return "unscheduled"; }
      var d = new Date(t);
      return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
    },
    line: function (v) { return "line " + v; },
    hour: function (v) {
      var t = parse(v);
      if (t === null) { return ""; }
      var d = new Date(t);
      return ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][d.getDay()] + " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
    },
    entries: function (v) { return v + " entries"; },
    verdict: function (v) { return v ? v + (v === 1 ? " problem" : " problems") : "ready"; },
    where: function (v, item) { return v || item.entry || ""; },
    fetching: function (v) { return v && v.length ? ", fetching " + v.length + " from the bucket" : ""; },
    age: function (v) { return duration(v || 0); },
    left: function (v) { return v > 0 ? "about " + duration(v) + " left" : ""; },
    pending: function (v, scope) { return scope.oldest_pending ? duration(v || 0) + " old" : "none"; },
    scanning: function (v) { return v ? ", scanning now" : ""; },
    pct: function (v) { return Math.round(v || 0) + "%"; },
    ms: function (v) { return Math.round(v || 0) + " ms"; },
    up: function (v) { return v ? "up" : "down"; },
    reach: function (v) { return v ? "reachable" : "unreachable"; },
    // An endpoint of a target with several (the rest say nothing for a
    // target with one): its order, since when it is down, whether it
    // takes the writes now or is read-only, its requests and bytes.
    order: function (v, item) { return item.several ? "endpoint " + v : ""; },
    down: function (v, item) { return item.several && !item.reachable && parse(v) !== null ? "down since " + formats.clock(v) : ""; },
    writes: function (v, item) { return item.several && v ? "takes writes" + (item.first_writer ? "" : " (failed over)") : ""; },
    ro: function (v, item) { return item.several && v ? "read-only" : ""; },
    requests: function (v, item) {
      if (!item.several) { return ""; }
      return (v || 0) + " requests" + (item.failures ? ", " + item.failures + " failed" : "") + (item.misses ? ", " + item.misses + " missed" : "");
    },
    served: function (v, item) { return item.several ? bytes(v) + " read, " + bytes(item.bytes_written) + " written" : ""; },
    // An appliance on a share's prefix (peers.appliances): ours marked,
    // when its heartbeat was last written, its state, its last file.
    thisone: function (v) { return v ? "this one" : ""; },
    seen: function (v) { return "last seen " + formats.ago(v); },
    peer: function (v, item) { return item.stopped ? "stopped" : v ? "stale" : "live"; },
    wrote: function (v, item) { return v ? "wrote " + v + " " + formats.ago(item.last_wrote_at) : ""; },
    skipped: function (v) { return v && v.length ? "not heartbeats, skipped: " + v.join("; ") : ""; },
    rw: function (v) { return v ? "read-write" : "read"; },
    state: function (v) { return v || ""; }
  };
  var classes = {
    state: function (v) { return "badge " + v; },
    up: function (v) { return v ? "ok" : "err"; }
  };

  function get(obj, path) {
    var parts = path.split(".");
    for (var i = 0; i < parts.length; i++) {
      if (obj === null || obj === undefined) { return undefined; }
      obj = obj[parts[i]];
    }
    return obj;
  }
  function inScope(el, scopeEl) {
    return el.closest("[data-share]") === scopeEl;
  }

  function bindValues(root, scope, scopeEl) {
    root.querySelectorAll("[data-b]").forEach(function (el) {
      if (!inScope(el, scopeEl)) { return; }
      var f = el.getAttribute("data-f") || "";
      var v = get(scope, el.getAttribute("data-b"));
      var text = (formats[f] || formats[""])(v, scope);
      if (el.textContent !== text) { el.textContent = text; }
      if (classes[f]) { el.className = classes[f](v); }
    });
  }

  function bindLists(root, scope, scopeEl) {
    root.querySelectorAll("[data-l]").forEach(function (ul) {
      if (!inScope(ul, scopeEl)) { return; }
      var items = get(scope, ul.getAttribute("data-l")) || [];
      var fields = ul.getAttribute("data-i").split(" ").map(function (s) {
        var p = s.split(":");
        return { name: p[0], fmt: p[1] || "" };
      });
      var next = [];
      items.forEach(function (item) {
        var li = document.createElement("li");
        if (item.level) { li.className = "lvl-" + item.level; }
        fields.forEach(function (f) {
          var span = document.createElement("span");
          span.className = "f-" + f.name;
          span.textContent = formats[f.fmt](item[f.name], item);
          li.appendChild(span);
        });
        next.push(li);
      });
      var empty = ul.getAttribute("data-e");
      if (next.length === 0 && empty) {
        var li = document.createElement("li");
        li.className = "muted";
        li.textContent = empty;
        next.push(li);
      }
      ul.replaceChildren.apply(ul, next);
    });
  }

  function health(snap) {
    if (snap.samba && snap.samba.mode !== "off" && !snap.samba.up) { return "smbd is down"; }
    var shares = snap.shares || [];
    for (var i = 0; i < shares.length; i++) {
      if (shares[i].state === "error") { return "share " + shares[i].name + ": error"; }
    }
    return "";
  }

  function render(snap) {
    serverNow = parse(snap.now) || Date.now();
    bindValues(document, snap, null);
    bindLists(document, snap, null);
    var byName = {};
    (snap.shares || []).forEach(function (s) { byName[s.name] = s; });
    document.querySelectorAll("[data-share]").forEach(function (sec) {
      var s = byName[sec.getAttribute("data-share")];
      if (s) { bindValues(sec, s, sec); bindLists(sec, s, sec); }
    });
    var h = document.getElementById("health"), why = health(snap);
    if (h) {
      h.textContent = why || "healthy";
      h.className = "badge " + (why ? "error" : "in-sync");
    }
    if (live) { live.textContent = "live"; live.className = "ok"; }
  }

  // The charts are drawn on the server a point a minute: fetch them
  // again each minute.
  setInterval(function () {
    document.querySelectorAll("img.chart").forEach(function (img) {
      img.src = img.src.split("?")[0] + "?t=" + Date.now();
    });
  }, 60000);

  if (!window.EventSource) {
    if (live) { live.textContent = "no live updates in this browser: reload to refresh"; }
    return;
  }
  var es = new EventSource("/api/events/stream");
  es.addEventListener("status", function (ev) {
    try { render(JSON.parse(ev.data)); } catch (e) { if (live) { live.textContent = "live update failed: " + e.message; } }
  });
  es.onerror = function () {
    if (live) { live.textContent = "reconnecting…"; live.className = "warn"; }
  };
})();
