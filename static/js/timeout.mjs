// The timeout warning (templates/reports/includes/timeout_warning.html), after the GOV.UK / HMRC pattern:
// DRAFT_WARNING_SECONDS before the reporter's answers (or their unlocked concern) end on the server, a modal
// dialog says so. Focus moves into it and stays there; Escape, like "Continue", keeps them; focus then goes
// back where it was. "Continue" asks the server for more time without leaving the page, so what the reporter
// has typed on it stays. Left to run out, the page is replaced by the one that says what was lost.
//
// The server tells the page how many seconds are left when it is made (never a clock time); the dialog is a
// native <dialog> opened with showModal(), so the rest of the page is inert while it is open.

const STEP_MS = 1000;
// How often a screen reader hears the time left while the dialog is open.
const ANNOUNCE_EVERY_S = 20;

function inWords(seconds) {
  if (seconds >= 60) {
    const minutes = Math.ceil(seconds / 60);
    return minutes === 1 ? "1 minute" : `${minutes} minutes`;
  }
  return seconds === 1 ? "1 second" : `${seconds} seconds`;
}

function timeoutWarning(dialog) {
  const warningS = Number(dialog.dataset.warningSeconds);
  const endedUrl = dialog.dataset.endedUrl;
  const form = dialog.querySelector("form");
  const text = document.getElementById(dialog.getAttribute("aria-describedby"));
  const countdown = dialog.querySelector("[data-countdown]");
  const announce = dialog.querySelector("[data-announce]");
  const problem = dialog.querySelector("[data-problem]");
  let deadline = Date.now() + Number(dialog.dataset.secondsLeft) * 1000;
  let returnTo = null;
  let announced = null;
  let asking = false;
  let timer = null;

  const secondsLeft = () => Math.max(0, Math.ceil((deadline - Date.now()) / 1000));

  function show(seconds) {
    countdown.textContent = inWords(seconds);
    const step = Math.ceil(seconds / ANNOUNCE_EVERY_S);
    if (announced !== null && step !== announced) announce.textContent = text.textContent.trim();
    announced = step;
  }

  function open() {
    returnTo = document.activeElement;
    problem.hidden = true;
    announce.textContent = "";
    announced = null;
    show(secondsLeft());
    dialog.showModal();
    form.querySelector("button").focus();
  }

  function close() {
    if (dialog.open) dialog.close();
    const back = returnTo;
    returnTo = null;
    if (back && back !== document.body && document.contains(back) && typeof back.focus === "function") {
      back.focus();
    }
  }

  function end() {
    clearInterval(timer);
    window.location.replace(endedUrl);
  }

  function tick() {
    const seconds = secondsLeft();
    if (seconds <= 0) {
      end();
    } else if (dialog.open) {
      show(seconds);
    } else if (seconds <= warningS) {
      open();
    }
  }

  async function keep() {
    if (asking) return;
    asking = true;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!response.ok) {
        end(); // nothing left to keep: the page that says so
        return;
      }
      const answer = await response.json();
      deadline = Date.now() + Number(answer.seconds_left) * 1000;
      close();
    } catch {
      problem.hidden = false; // the service did not answer: the dialog stays, and Continue can be tried again
    } finally {
      asking = false;
    }
  }

  function focusables() {
    return [...dialog.querySelectorAll("a[href], button:not([disabled])")];
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    keep();
  });
  dialog.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      keep();
      return;
    }
    if (event.key !== "Tab") return;
    // Focus stays in the dialog: past the last control it goes back to the first, and the other way.
    const controls = focusables();
    const first = controls[0];
    const last = controls[controls.length - 1];
    const inside = controls.includes(document.activeElement);
    if (event.shiftKey && (document.activeElement === first || !inside)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (document.activeElement === last || !inside)) {
      event.preventDefault();
      first.focus();
    }
  });
  // Escape where the browser closes the dialog itself: it is "Continue" all the same.
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    keep();
  });
  // A timer in a hidden tab runs late: look again as soon as the page is seen.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") tick();
  });
  timer = setInterval(tick, STEP_MS);
  tick();
}

const dialog = document.querySelector('[data-module="app-timeout-warning"]');
if (dialog && typeof dialog.showModal === "function") timeoutWarning(dialog);
