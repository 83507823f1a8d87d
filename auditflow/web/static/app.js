/* auditflow: small enhancements only; every page works without script.
   No inline script anywhere: the Content-Security-Policy forbids it.

   1. Korean messages for required fields (forms are ``novalidate``: no browser bubbles).
   2. Drafts: what is typed in a form with ``data-draft`` is kept in this browser until
      the server shows it saved, so a session time-out, an expired form token or a
      sign-in in between loses nothing.
   3. The idle time-out: a warning before it, with a button that keeps the session.
   4. Report jobs (발행, large downloads): the bar, the formats and, once done, the files,
      polled from the job's JSON status; the page stays as it is, nothing reloads. */
(function () {
  "use strict";

  var DRAFT_PREFIX = "auditflow:draft:";
  var DRAFT_DAYS = 14;
  var SESSION_KEY = "auditflow:session-ends";

  function storage() {
    try {
      var probe = "auditflow:probe";
      window.localStorage.setItem(probe, "1");
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch (error) {
      return null; // private mode or storage switched off: the page still works
    }
  }

  // ── 1. required fields ──────────────────────────────────────────────────────────
  function isEmpty(field) {
    if (field.type === "checkbox" || field.type === "radio") {
      return !field.checked;
    }
    if (field.type === "file") {
      return !field.files || field.files.length === 0;
    }
    return field.value.trim() === "";
  }

  function requiredMessage(field) {
    if (field.dataset.requiredMessage) {
      return field.dataset.requiredMessage;
    }
    if (field.type === "checkbox") {
      return "이 항목에 표시하세요.";
    }
    if (field.type === "file") {
      return "올릴 파일을 선택하세요.";
    }
    return "이 항목을 입력하세요.";
  }

  function clearRequired(field) {
    var note = document.getElementById(field.id + "-required");
    if (note) {
      note.remove();
      field.removeAttribute("aria-invalid");
      field.classList.remove("is-error");
    }
  }

  function markRequired(field) {
    clearRequired(field);
    var note = document.createElement("p");
    note.className = "form-hint-invalid";
    note.id = field.id + "-required";
    note.textContent = requiredMessage(field);
    field.setAttribute("aria-invalid", "true");
    field.setAttribute("aria-describedby", note.id);
    if (field.type !== "checkbox") {
      field.classList.add("is-error");
    }
    var holder = field.closest(".form-group, .krds-form-check") || field;
    holder.insertAdjacentElement("afterend", note);
  }

  function checkRequired(event) {
    var form = event.target;
    var missing = [];
    form.querySelectorAll("[required]").forEach(function (field) {
      if (field.disabled) {
        return;
      }
      if (isEmpty(field)) {
        markRequired(field);
        missing.push(field);
      } else {
        clearRequired(field);
      }
    });
    if (missing.length) {
      event.preventDefault();
      event.stopImmediatePropagation();
      missing[0].focus();
    }
  }

  // ── 2. drafts ───────────────────────────────────────────────────────────────────
  function normalise(value) {
    return (value || "").replace(/\r\n?/g, "\n").replace(/[ \t]+$/gm, "").trim();
  }

  function draftFields(form) {
    return Array.prototype.filter.call(form.elements, function (field) {
      return field.name && field.name !== "csrf_token" && field.name !== "version" &&
        (field.tagName === "TEXTAREA" ||
         (field.tagName === "INPUT" && /^(text|date|search)$/.test(field.type)));
    });
  }

  function sameAsPage(fields, values) {
    return fields.every(function (field) {
      return normalise(field.value) === normalise(values[field.name]);
    });
  }

  function formatTime(ms) {
    var at = new Date(ms);
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return (at.getMonth() + 1) + "월 " + at.getDate() + "일 " + pad(at.getHours()) + ":" + pad(at.getMinutes());
  }

  function keepDrafts(store) {
    var now = Date.now();
    // Old drafts go: a shared computer does not keep a text for ever.
    for (var i = store.length - 1; i >= 0; i -= 1) {
      var key = store.key(i);
      if (key && key.indexOf(DRAFT_PREFIX) === 0) {
        try {
          var old = JSON.parse(store.getItem(key));
          if (!old || now - old.at > DRAFT_DAYS * 86400000) {
            store.removeItem(key);
          }
        } catch (error) {
          store.removeItem(key);
        }
      }
    }
    // The server saved these on the request before this page: their copies go.
    document.querySelectorAll("[data-draft-saved]").forEach(function (marker) {
      store.removeItem(DRAFT_PREFIX + marker.dataset.draftSaved);
    });
    document.querySelectorAll("form[data-draft]").forEach(function (form) {
      var key = DRAFT_PREFIX + form.dataset.draft;
      var fields = draftFields(form);
      var original = {};
      fields.forEach(function (field) { original[field.name] = field.value; });
      var stored = null;
      try {
        stored = JSON.parse(store.getItem(key));
      } catch (error) {
        stored = null;
      }
      if (stored && stored.values && !sameAsPage(fields, stored.values)) {
        fields.forEach(function (field) {
          if (Object.prototype.hasOwnProperty.call(stored.values, field.name)) {
            field.value = stored.values[field.name];
          }
        });
        var notice = form.querySelector(".draft-notice");
        if (notice) {
          var time = notice.querySelector("[data-draft-time]");
          if (time) {
            time.textContent = formatTime(stored.at);
          }
          notice.hidden = false;
          var discard = notice.querySelector("[data-draft-discard]");
          if (discard) {
            discard.addEventListener("click", function () {
              fields.forEach(function (field) { field.value = original[field.name]; });
              store.removeItem(key);
              notice.hidden = true;
              if (fields[0]) {
                fields[0].focus();
              }
            });
          }
        }
      }
      var timer = null;
      function save() {
        var values = {};
        fields.forEach(function (field) { values[field.name] = field.value; });
        store.setItem(key, JSON.stringify({ at: Date.now(), values: values }));
      }
      form.addEventListener("input", function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(save, 300);
      });
      // Kept until the server says it has it (data-draft-saved), whatever happens to this post.
      form.addEventListener("submit", function () {
        window.clearTimeout(timer);
        save();
      });
    });
    // Signing out on purpose drops this user's drafts (a shared computer); a time-out keeps them.
    document.querySelectorAll("form[data-clears-drafts]").forEach(function (form) {
      form.addEventListener("submit", function () {
        var prefix = DRAFT_PREFIX + form.dataset.clearsDrafts + "-";
        for (var j = store.length - 1; j >= 0; j -= 1) {
          var name = store.key(j);
          if (name && name.indexOf(prefix) === 0) {
            store.removeItem(name);
          }
        }
      });
    });
  }

  // ── 3. idle time-out ────────────────────────────────────────────────────────────
  function watchSession(store) {
    var body = document.body;
    var left = parseInt(body.dataset.sessionSeconds || "", 10);
    var box = document.getElementById("session-warning");
    if (!left || !box) {
      return;
    }
    var warnBefore = Math.min(120, Math.floor(left / 2));
    var endsAt = Date.now() + left * 1000;
    var timer = null;
    var countdown = box.querySelector("[data-session-left]");
    var stay = box.querySelector("[data-session-stay]");
    var active = box.querySelector(".session-active");
    var ended = box.querySelector(".session-ended");

    function share() {
      if (store) {
        store.setItem(SESSION_KEY, String(endsAt));
      }
    }

    function describe(ms) {
      var seconds = Math.max(0, Math.round(ms / 1000));
      var minutes = Math.floor(seconds / 60);
      return (minutes ? minutes + "분 " : "") + (seconds % 60) + "초";
    }

    function tick() {
      window.clearTimeout(timer);
      var remaining = endsAt - Date.now();
      if (remaining <= 0) {
        active.hidden = true;
        ended.hidden = false;
        box.hidden = false;
        return;
      }
      if (remaining <= warnBefore * 1000) {
        if (box.hidden) {
          box.hidden = false;
          stay.focus();
        }
        countdown.textContent = describe(remaining);
        timer = window.setTimeout(tick, 1000);
      } else {
        box.hidden = true;
        timer = window.setTimeout(tick, remaining - warnBefore * 1000);
      }
    }

    stay.addEventListener("click", function () {
      stay.disabled = true;
      var token = document.querySelector("meta[name='csrf-token']");
      window.fetch(body.dataset.keepalive, {
        method: "POST",
        credentials: "same-origin",
        redirect: "manual",
        headers: { "X-CSRFToken": token ? token.content : "", "Accept": "application/json" }
      }).then(function (response) {
        if (response.type === "opaqueredirect" || !response.ok) {
          throw new Error("session ended");
        }
        return response.json();
      }).then(function (data) {
        endsAt = Date.now() + data.seconds_left * 1000;
        share();
        box.hidden = true;
        tick();
      }).catch(function () {
        endsAt = 0;
        tick();
      }).then(function () {
        stay.disabled = false;
      });
    });

    // Another tab of this site kept the session alive: follow its time.
    window.addEventListener("storage", function (event) {
      if (event.key === SESSION_KEY && event.newValue) {
        var theirs = parseInt(event.newValue, 10);
        if (theirs > endsAt) {
          endsAt = theirs;
          tick();
        }
      }
    });
    share();
    tick();
  }

  // ── 4. report jobs ──────────────────────────────────────────────────────────────
  var JOB_POLL_MS = 1000;
  var JOB_POLL_FOR_MS = 15 * 60 * 1000; // then the link looks again by hand
  var JOB_MAX_ERRORS = 5;

  function followJob(panel) {
    var url = panel.dataset.statusUrl;
    var bar = panel.querySelector(".report-job-bar");
    var percent = panel.querySelector("[data-job-percent]");
    var text = panel.querySelector("[data-job-text]");
    var steps = panel.querySelector("[data-job-steps]");
    var result = panel.querySelector("[data-job-result]");
    var refresh = panel.querySelector("[data-job-refresh]");
    var started = Date.now();
    var errors = 0;
    if (!url || !bar || !text) {
      return;
    }
    if (refresh) {
      refresh.hidden = true; // this page follows the job by itself
    }

    function stop(message) {
      if (message) {
        text.textContent = message;
      }
      if (refresh) {
        refresh.hidden = false;
      }
    }

    function show(data) {
      bar.max = data.max;
      bar.value = data.value;
      bar.textContent = data.percent + "%";
      if (percent) {
        percent.textContent = String(data.percent);
      }
      // The live region speaks when the sentence changes (a format done, the end), not per item.
      if (text.textContent !== data.text) {
        text.textContent = data.text;
      }
      if (steps && typeof data.steps_html === "string") {
        steps.innerHTML = data.steps_html;
      }
      panel.dataset.state = data.state;
      panel.className = panel.className.replace(/\breport-job-(queued|running|done|failed)\b/,
                                                "report-job-" + data.state);
      if (data.finished) {
        if (result && typeof data.result_html === "string") {
          result.innerHTML = data.result_html;
        }
        var list = document.querySelector("[data-issued-list]");
        if (list && typeof data.issued_html === "string") {
          list.innerHTML = data.issued_html;
        }
        if (refresh) {
          refresh.remove();
        }
      }
    }

    function poll() {
      window.fetch(url, {
        credentials: "same-origin",
        redirect: "manual",
        cache: "no-store",
        headers: { "Accept": "application/json" }
      }).then(function (response) {
        if (response.type === "opaqueredirect" || response.status === 401) {
          throw new Error("signed out");
        }
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      }).then(function (data) {
        errors = 0;
        show(data);
        if (data.finished) {
          return;
        }
        if (Date.now() - started > JOB_POLL_FOR_MS) {
          stop("진행 상황을 더 이상 자동으로 확인하지 않습니다. '진행 상황 새로 보기'를 누르세요.");
          return;
        }
        window.setTimeout(poll, JOB_POLL_MS);
      }).catch(function (error) {
        if (error && error.message === "signed out") {
          stop("로그인이 끝나 진행 상황을 받을 수 없습니다. 다시 로그인한 뒤 확인하세요.");
          return;
        }
        errors += 1;
        if (errors >= JOB_MAX_ERRORS) {
          stop("진행 상황을 받지 못했습니다. '진행 상황 새로 보기'를 누르세요.");
          return;
        }
        window.setTimeout(poll, JOB_POLL_MS * Math.pow(2, errors));
      });
    }

    window.setTimeout(poll, JOB_POLL_MS);
  }

  document.addEventListener("submit", checkRequired, true);
  document.addEventListener("DOMContentLoaded", function () {
    var store = storage();
    if (store) {
      keepDrafts(store);
    }
    watchSession(store);
    // "전체" ticks every box of this page (a script nicety: each box works on its own).
    document.querySelectorAll("[data-select-all]").forEach(function (all) {
      var holder = all.closest("[hidden]");
      if (holder) {
        holder.hidden = false;
      }
      var form = all.closest("form");
      all.addEventListener("change", function () {
        form.querySelectorAll("input[type=checkbox][name='" + all.dataset.selectAll + "']")
          .forEach(function (box) { box.checked = all.checked; });
      });
    });
    document.querySelectorAll("[data-print]").forEach(function (button) {
      var holder = button.closest("[hidden]");
      if (holder) {
        holder.hidden = false;
      }
      button.addEventListener("click", function () { window.print(); });
    });
    document.querySelectorAll("[data-report-job]").forEach(function (panel) {
      if (panel.dataset.state === "queued" || panel.dataset.state === "running") {
        followJob(panel);
      }
    });
    // Bring the first field with an error into view, so the message next to it is read first.
    var invalid = document.querySelector("[aria-invalid='true']");
    if (invalid) {
      invalid.focus();
    }
  });
})();
