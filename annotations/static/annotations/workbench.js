/* The annotation page: keyboard-first marking of the earliest wrong step, claim heartbeat, time spent.
 * Works on top of a plain HTML form (radio buttons, checkboxes, submit): without this script the page
 * still submits. No inline scripts: the page's settings come from data-* attributes on #workbench.
 * This file is the core; workbench-keys.js (numbers, flags, going back), workbench-critique.js (error type,
 * explanation at the marked step, notes on steps) and workbench-drafts.js (drafts kept in the browser)
 * extend it through window.prmwebWorkbench. */
(function () {
  "use strict";

  var root = document.getElementById("workbench");
  if (!root) {
    return;
  }
  var form = document.getElementById("annotation-form");
  var steps = Array.prototype.slice.call(document.querySelectorAll("#steps .step"));
  var allCorrect = document.querySelector('#all-correct input[type="radio"]');
  var rationale = document.getElementById("id_rationale");
  var secondsInput = document.getElementById("id_seconds_spent");
  var confirmBox = document.getElementById("id_confirm_all_correct");
  var confirmDialog = document.getElementById("confirm-dialog");
  var shortcuts = document.getElementById("shortcuts");
  var clientError = document.getElementById("client-error");
  var timerLabel = document.getElementById("timer");
  var currentChoice = document.getElementById("current-choice");
  var keyFeedback = document.getElementById("key-feedback");
  var skipForm = document.getElementById("skip-form");
  var editable = root.getAttribute("data-editable") === "true";
  var finalAnswerWrong = root.getAttribute("data-final-answer-wrong") === "true";
  var rationaleRequired = root.getAttribute("data-rationale-required") === "true";
  var heartbeatUrl = root.getAttribute("data-heartbeat-url");
  var heartbeatMs = 1000 * (parseFloat(root.getAttribute("data-heartbeat-seconds")) || 60);
  var focusIndex = -1;
  var confirmed = false;
  var changeListeners = [];
  var submitListeners = [];
  var paintListeners = [];
  var checks = [];
  var topbar = document.querySelector(".topbar");
  if (topbar) {  /* a toast sits below the top bar's links, however many lines the bar takes (workbench.css) */
    document.documentElement.style.setProperty("--topbar-height", topbar.offsetHeight + "px");
  }

  var wb = {
    root: root,
    form: form,
    steps: steps,
    editable: editable,
    numSteps: steps.length,
    submitting: false,
    keys: {}
  };
  window.prmwebWorkbench = wb;

  /* ---- time spent: counts only while the page is visible ---- */
  var seconds = 0;
  var visibleSince = document.visibilityState === "visible" ? Date.now() : null;

  function elapsedSeconds() {
    var running = visibleSince === null ? 0 : (Date.now() - visibleSince) / 1000;
    return seconds + running;
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      visibleSince = Date.now();
    } else if (visibleSince !== null) {
      seconds += (Date.now() - visibleSince) / 1000;
      visibleSince = null;
    }
  });

  function showTimer() {
    if (!timerLabel) {
      return;
    }
    var total = Math.floor(elapsedSeconds());
    var minutes = Math.floor(total / 60);
    var rest = total % 60;
    timerLabel.textContent = minutes + ":" + (rest < 10 ? "0" : "") + rest;
  }
  showTimer();
  window.setInterval(showTimer, 1000);
  wb.elapsedSeconds = elapsedSeconds;
  /* time spent on this item before a reload or a crashed tab (workbench-drafts.js keeps it) */
  wb.addSeconds = function (earlier) {
    seconds += earlier;
    showTimer();
  };

  /* ---- feedback in the action bar (digits typed, flags toggled, a step that does not exist) ---- */
  wb.feedback = function (text, isError) {
    if (!keyFeedback) {
      return;
    }
    keyFeedback.textContent = text || "";
    keyFeedback.classList.toggle("is-error", Boolean(isError));
  };

  /* ---- marking ---- */
  function selectedValue() {
    var checked = form.querySelector('input[name="earliest_error_step"]:checked');
    return checked ? parseInt(checked.value, 10) : null;
  }
  wb.selectedValue = selectedValue;

  function choiceText(value) {
    if (value === null) {
      return "Nothing marked yet";
    }
    return value === -1 ? "Marked: all steps correct" : "Marked: step " + (value + 1) + " is the earliest error";
  }

  function paint() {
    var value = selectedValue();
    steps.forEach(function (step, index) {
      step.classList.toggle("is-error", value === index);
      step.classList.toggle("not-judged", value !== null && value >= 0 && index > value);
      step.classList.toggle("is-correct", value !== null && (value === -1 || index < value));
      step.classList.toggle("is-focused", index === focusIndex);
    });
    root.classList.toggle("all-correct-chosen", value === -1);
    if (currentChoice) {
      currentChoice.textContent = choiceText(value);
    }
    if (clientError) {
      clientError.hidden = true;
    }
    paintListeners.forEach(function (listener) { listener(value); });
  }
  wb.paint = paint;
  wb.onPaint = function (listener) {
    paintListeners.push(listener);
  };
  wb.focusedIndex = function () {
    return focusIndex;
  };
  /* a check before submitting: check(value) returns {message, target} to refuse, or null */
  wb.addCheck = function (check) {
    checks.push(check);
  };

  wb.onChange = function (listener) {
    changeListeners.push(listener);
  };
  wb.onSubmit = function (listener) {
    submitListeners.push(listener);
  };
  function changed() {
    changeListeners.forEach(function (listener) { listener(); });
  }
  wb.changed = changed;

  function focusStep(index, scroll) {
    focusIndex = index;
    var step = steps[index];
    step.focus({ preventScroll: true });
    if (scroll) {
      step.scrollIntoView({ block: "nearest" });
    }
  }

  function mark(value, scroll) {
    if (!editable) {
      return;
    }
    var input = value === -1 ? allCorrect : steps[value] && steps[value].querySelector('input[type="radio"]');
    if (!input) {
      return;
    }
    input.checked = true;
    if (value >= 0) {
      focusStep(value, scroll);
    }
    paint();
    changed();
  }
  wb.mark = mark;

  wb.goToStep = function (index) {
    focusStep(index, true);
    paint();
  };

  function moveFocus(delta) {
    if (!steps.length) {
      return;
    }
    if (focusIndex < 0) {
      var value = selectedValue();
      focusIndex = value !== null && value >= 0 ? value : delta > 0 ? -1 : steps.length;
    }
    var target = Math.min(Math.max(focusIndex + delta, 0), steps.length - 1);
    if (target === focusIndex) {  /* j on the last step, k on the first: say so instead of nothing */
      wb.feedback(delta > 0 ? "Step " + steps.length + " is the last step." : "Step 1 is the first step.");
      return;
    }
    focusStep(target, true);
    paint();
    wb.feedback(focusIndex === selectedValue() ? "" : "At step " + (focusIndex + 1) + ": Enter marks it.");
  }

  steps.forEach(function (step, index) {
    step.addEventListener("click", function (event) {
      if (event.target.closest("a, details, summary, .error-detail")) {
        return;
      }
      mark(index, false);
    });
  });
  form.addEventListener("change", function (event) {
    if (event.target.name === "earliest_error_step") {
      paint();
    }
    changed();
  });
  form.addEventListener("input", changed);

  /* ---- submitting ---- */
  function showError(message, focusTarget) {
    if (clientError) {
      clientError.textContent = message;
      clientError.hidden = false;
    }
    wb.feedback(message, true);  /* the action bar stays in view; the form's own line may be far below */
    if (focusTarget) {
      focusTarget.focus();
    }
  }

  function openDialog(dialog) {
    dialog.hidden = false;
    var button = dialog.querySelector("button");
    if (button) {
      button.focus({ preventScroll: true });  /* a long dialog opens at its title */
    }
  }

  function closeDialog(dialog) {
    dialog.hidden = true;
  }

  function checkBeforeSubmit() {
    var value = selectedValue();
    if (value === null) {
      showError("Mark the earliest wrong step, or mark all steps correct (0), before submitting.");
      return false;
    }
    if (value >= 0 && rationaleRequired && rationale && !rationale.value.trim()) {
      showError("This dataset asks for an explanation: say why the marked step is wrong.", rationale);
      return false;
    }
    for (var index = 0; index < checks.length; index += 1) {
      var problem = checks[index](value);
      if (problem) {
        showError(problem.message, problem.target);
        return false;
      }
    }
    if (value === -1 && finalAnswerWrong && confirmBox && !confirmBox.checked && !confirmed) {
      openDialog(confirmDialog);
      return false;
    }
    return true;
  }

  function submitNow() {
    if (wb.submitting || !editable) {
      return;
    }
    if (form.requestSubmit) {
      form.requestSubmit();
    } else if (checkBeforeSubmit()) {
      form.submit();
    }
  }

  form.addEventListener("submit", function (event) {
    if (wb.submitting || !checkBeforeSubmit()) {
      event.preventDefault();
      return;
    }
    if (confirmBox && selectedValue() === -1 && finalAnswerWrong) {
      confirmBox.checked = true;
    }
    secondsInput.value = elapsedSeconds().toFixed(1);
    wb.submitting = true;
    submitListeners.forEach(function (listener) { listener("submit"); });
    var button = document.getElementById("submit-button");
    if (button) {
      button.disabled = true;
    }
  });

  document.getElementById("confirm-yes").addEventListener("click", function () {
    confirmed = true;
    if (confirmBox) {
      confirmBox.checked = true;
    }
    closeDialog(confirmDialog);
    submitNow();
  });
  document.getElementById("confirm-no").addEventListener("click", function () {
    closeDialog(confirmDialog);
  });
  document.getElementById("shortcuts-close").addEventListener("click", function () {
    closeDialog(shortcuts);
  });

  function skip() {
    if (skipForm && !wb.submitting) {
      wb.submitting = true;
      submitListeners.forEach(function (listener) { listener("skip"); });
      skipForm.submit();
    }
  }
  if (skipForm) {
    skipForm.addEventListener("submit", function () {
      wb.submitting = true;
      submitListeners.forEach(function (listener) { listener("skip"); });
    });
  }

  /* ---- keyboard: the table below; workbench-keys.js adds numbers, flags and going back ---- */
  function isTyping(target) {
    return target && (target.tagName === "TEXTAREA" || (target.tagName === "INPUT" && target.type === "text"));
  }

  function onDialogKey(event) {
    var dialog = !confirmDialog.hidden ? confirmDialog : !shortcuts.hidden ? shortcuts : null;
    if (!dialog) {
      return false;
    }
    if (event.key === "Escape" || (event.key === "?" && dialog === shortcuts)) {
      closeDialog(dialog);
      event.preventDefault();
    } else if (event.key === "y" && dialog === confirmDialog) {
      document.getElementById("confirm-yes").click();  /* a key of its own: Enter marks steps, so it goes back */
      event.preventDefault();
    }
    return true;
  }

  wb.markFocused = function () {
    if (focusIndex >= 0) {
      mark(focusIndex, false);
    }
  };

  var KEYS = wb.keys;
  KEYS.j = function () { moveFocus(1); };
  KEYS.ArrowDown = KEYS.j;
  KEYS.k = function () { moveFocus(-1); };
  KEYS.ArrowUp = KEYS.k;
  KEYS.Enter = wb.markFocused;
  KEYS["0"] = function () { mark(-1, false); };
  KEYS.s = submitNow;
  KEYS.x = skip;
  KEYS.r = function () { if (rationale && editable) { rationale.focus(); } };
  KEYS["?"] = function () { openDialog(shortcuts); };

  document.addEventListener("keydown", function (event) {
    if (onDialogKey(event)) {
      return;
    }
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      event.preventDefault();
      submitNow();
      return;
    }
    if (isTyping(event.target)) {
      if (event.key === "Escape") {
        event.target.blur();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (event.key === "Enter" && event.target.closest && event.target.closest("button, a, summary, select")) {
      return;
    }
    if (wb.takeKey && wb.takeKey(event)) {
      event.preventDefault();  /* e.g. the key after "t" names an error type */
      return;
    }
    if (wb.beforeKey) {
      wb.beforeKey(event.key);  /* e.g. a number still being typed is taken before "s" submits */
    }
    var action = KEYS[event.key];
    if (action) {
      event.preventDefault();
      wb.feedback("");  /* the line answers the latest key: a key that says nothing clears an older message */
      action(event);
    }
  });

  /* ---- claim heartbeat ---- */
  function csrfToken() {
    var input = form.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  function showLostClaim(message) {
    var banner = document.getElementById("claim-banner");
    banner.textContent = message + " What you wrote stays in this browser as a draft.";
    banner.hidden = false;
  }

  function heartbeat() {
    if (!heartbeatUrl || wb.submitting) {
      return;
    }
    window.fetch(heartbeatUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" }
    }).then(function (response) {
      if (response.status === 409 || response.status === 404) {
        return response.json().then(function (body) {
          showLostClaim(body.message || "Your claim on this solution was lost.");
        });
      }
      return null;
    }).catch(function () { /* offline for a moment: the next beat tries again */ });
  }
  if (heartbeatUrl) {
    window.setInterval(heartbeat, heartbeatMs);
  }

  paint();
})();
