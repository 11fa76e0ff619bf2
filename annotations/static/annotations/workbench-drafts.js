/* Drafts of the annotation page, kept in this browser's localStorage per user and solution: the marked
 * step, the explanation (rationale), the error type, the notes on steps and the flags survive a reload, a
 * crash of the tab and an expired claim.
 * A draft is saved on every change; submitting marks it "sent", and the next workbench page removes sent
 * drafts of other solutions (the submit went through). Coming back to the same solution, still editable,
 * restores it (a refused submit); a refused claimless submit keeps it for when the queue hands the
 * solution back. Skip removes it. Drafts older than MAX_AGE_DAYS are dropped.
 * The time spent on a new item is kept too (saved when the page goes away), so a reload, a crash or a
 * refused submit does not restart the timer: the seconds sent with the annotation count all of it.
 * Leaving the page with explanation or note text that is not saved on the server asks first (beforeunload). */
(function () {
  "use strict";

  var PREFIX = "prmweb:draft:";
  var MAX_AGE_DAYS = 30;
  var MAX_SECONDS = 4 * 3600;  /* the server bounds seconds spent to 0..4 h as well */
  var SAVE_DELAY_MS = 250;

  function storage() {
    try {
      return window.localStorage;
    } catch (error) {
      return null;  /* storage disabled: no drafts, the page still works */
    }
  }

  function read(store, key) {
    try {
      return JSON.parse(store.getItem(key) || "null");
    } catch (error) {
      return null;
    }
  }

  function write(store, key, draft) {
    try {
      store.setItem(key, JSON.stringify(draft));
    } catch (error) {
      /* storage full: the page still works */
    }
  }

  function sweep(store, currentKey) {
    var oldest = Date.now() - MAX_AGE_DAYS * 24 * 3600 * 1000;
    var keys = [];
    for (var index = 0; index < store.length; index += 1) {
      keys.push(store.key(index));
    }
    keys.forEach(function (key) {
      if (!key || key.indexOf(PREFIX) !== 0 || key === currentKey) {
        return;
      }
      var stored = read(store, key);
      if (!stored || stored.sent || !(stored.savedAt > oldest)) {
        store.removeItem(key);
      }
    });
  }

  var store = storage();
  var wb = window.prmwebWorkbench;
  var key = wb ? wb.root.getAttribute("data-draft-key") : null;
  if (!store) {
    return;
  }
  sweep(store, key);
  if (!wb || !key) {
    return;
  }

  var form = wb.form;
  var rationale = document.getElementById("id_rationale");
  var banner = document.getElementById("draft-banner");
  var FLAGS = ["flag_ambiguous", "flag_reference_wrong", "flag_unsure"];
  var noteInputs = Array.prototype.slice.call(form.querySelectorAll('input[name^="step_note_"]'));
  var savedText = texts();
  var saveTimer = null;

  function box(name) {
    return form.querySelector('input[name="' + name + '"]');
  }

  function notes() {
    var found = {};
    noteInputs.forEach(function (input) {
      if (input.value !== "") {
        found[input.name] = input.value;
      }
    });
    return found;
  }

  function errorType() {
    var checked = form.querySelector('input[name="error_type"]:checked');
    return checked ? checked.value : "";
  }

  function texts() {
    return JSON.stringify([rationale ? rationale.value : "", notes()]);
  }

  function snapshot() {
    var flags = {};
    FLAGS.forEach(function (name) {
      var input = box(name);
      flags[name] = Boolean(input && input.checked);
    });
    return {
      step: wb.selectedValue(),
      rationale: rationale ? rationale.value : "",
      errorType: errorType(),
      notes: notes(),
      flags: flags,
      seconds: wb.elapsedSeconds(),
      savedAt: Date.now(),
      sent: false
    };
  }

  function same(draft, now) {
    return draft.step === now.step && draft.rationale === now.rationale &&
      (draft.errorType || "") === now.errorType &&
      JSON.stringify(draft.notes || {}) === JSON.stringify(now.notes) &&
      FLAGS.every(function (name) { return Boolean(draft.flags && draft.flags[name]) === now.flags[name]; });
  }

  function save() {
    if (saveTimer !== null) {
      window.clearTimeout(saveTimer);
      saveTimer = null;
    }
    if (wb.editable && !wb.submitting) {
      write(store, key, snapshot());
    }
  }

  function saveSoon() {
    if (saveTimer !== null) {
      window.clearTimeout(saveTimer);
    }
    saveTimer = window.setTimeout(save, SAVE_DELAY_MS);
  }

  function restore(draft) {
    if (typeof draft.step === "number") {
      wb.mark(draft.step, false);
    }
    if (rationale && typeof draft.rationale === "string") {
      rationale.value = draft.rationale;
    }
    if (typeof draft.errorType === "string" && /^[a-z0-9_]*$/.test(draft.errorType)) {
      var typeInput = form.querySelector('input[name="error_type"][value="' + draft.errorType + '"]');
      if (typeInput) {
        typeInput.checked = true;
      }
    }
    if (draft.notes && typeof draft.notes === "object") {
      noteInputs.forEach(function (input) {
        var note = draft.notes[input.name];
        input.value = typeof note === "string" ? note : "";
      });
    }
    FLAGS.forEach(function (name) {
      var input = box(name);
      if (input) {
        input.checked = Boolean(draft.flags && draft.flags[name]);
      }
    });
    wb.paint();
    banner.textContent = "Restored your draft from this browser (saved " +
      new Date(draft.savedAt).toLocaleTimeString() + ").";
    banner.hidden = false;
  }

  function restorable(draft) {
    if (!draft || !wb.editable) {
      return false;
    }
    var updated = parseInt(wb.root.getAttribute("data-annotation-updated") || "0", 10) * 1000;
    return draft.savedAt > updated && !same(draft, snapshot());
  }

  var draft = read(store, key);
  var newItem = wb.root.getAttribute("data-mode") === "new";
  if (wb.editable && newItem && draft && typeof draft.seconds === "number" && draft.seconds > 0) {
    wb.addSeconds(Math.min(draft.seconds, MAX_SECONDS));  /* not yet submitted: the time before counts */
  }
  if (wb.editable) {
    if (restorable(draft)) {
      restore(draft);
    }
    if (draft) {
      save();  /* back on this solution, still editable: whatever was sent did not go through */
    }
  } else if (draft && wb.root.getAttribute("data-claim-lost") === "true") {
    draft.sent = false;  /* the submit was refused: keep the draft for when the queue hands this back */
    write(store, key, draft);
  } else if (draft && wb.root.getAttribute("data-mode") === "read_only") {
    store.removeItem(key);
  }

  wb.onChange(saveSoon);
  wb.onSubmit(function (how) {
    if (how === "skip") {
      store.removeItem(key);
      return;
    }
    var sent = snapshot();
    sent.sent = true;
    write(store, key, sent);
  });
  window.addEventListener("pagehide", function () {
    if (saveTimer !== null || newItem) {
      save();  /* a new item keeps its time even when nothing was chosen yet */
    }
  });

  window.addEventListener("beforeunload", function (event) {
    if (!wb.editable || wb.submitting || texts() === savedText) {
      return undefined;
    }
    save();
    event.preventDefault();
    event.returnValue = "";
    return "";
  });
})();
