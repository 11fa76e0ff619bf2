/* Drafts of the annotation page, kept in this browser's localStorage per user and solution: the marked
 * step, the rationale and the flags survive a reload, a crash of the tab and an expired claim.
 * A draft is saved on every change; submitting marks it "sent", and the next workbench page removes sent
 * drafts of other solutions (the submit went through). Coming back to the same solution after a refused
 * submit restores it. Skip removes it. Drafts older than MAX_AGE_DAYS are dropped.
 * Leaving the page with rationale text that is not saved on the server asks first (beforeunload). */
(function () {
  "use strict";

  var PREFIX = "prmweb:draft:";
  var MAX_AGE_DAYS = 30;
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
      var draft = read(store, key);
  var mode = wb.root.getAttribute("data-mode");
  if (wb.editable) {
    if (restorable(draft)) {
      restore(draft);
    }
    if (draft) {
      save();  /* back on this solution, still editable: whatever was sent did not go through */
    }
  } else if (draft && wb.root.getAttribute("data-claim-lost") === "true") {
    draft.sent = false;  /* the submit was refused: keep the draft for when the queue hands this back */
    store.setItem(key, JSON.stringify(draft));
  } else if (draft && mode === "read_only") {
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
    try {
      store.setItem(key, JSON.stringify(sent));
    } catch (error) {
      /* nothing to keep */
    }
  });
  window.addEventListener("pagehide", function () {
    if (saveTimer !== null) {
      save();
    }
  });

  window.addEventListener("beforeunload", function (event) {
    if (!wb.editable || wb.submitting || !rationale || rationale.value === savedRationale) {
      return undefined;
    }
    save();
    event.preventDefault();
    event.returnValue = "";
    return "";
  });
})();
