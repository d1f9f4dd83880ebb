// "Exit this page" (templates/govuk/exit_this_page.html) for the reporter: the session ends on the server
// before the page goes, and the page is replaced by the neutral page in the history, so that Back does not
// come back to it.
//
// GOV.UK Frontend's component handles the button and the Shift-three-times shortcut, shows its overlay and
// then sets location.href, which keeps this page in the history. Its exitPage is replaced here (the same
// steps, govuk-frontend 5.14) so that both ways out end the session and leave no entry behind.
import { ExitThisPage } from "/static/vendor/govuk/govuk-frontend.min.js";

function endSession(address) {
  // A beacon is sent even when the page is gone before the answer comes back. The cookies are HttpOnly:
  // the server deletes them in its answer, and the state they named is already gone on the server.
  if (navigator.sendBeacon && navigator.sendBeacon(address)) return;
  fetch(address, { method: "POST", keepalive: true, credentials: "same-origin" }).catch(() => {});
}

ExitThisPage.prototype.exitPage = function exitPage() {
  const { sessionEnd, neutralPage } = this.$button.dataset;
  if (sessionEnd) endSession(sessionEnd);
  if (this.$updateSpan) this.$updateSpan.textContent = "";
  document.body.classList.add("govuk-exit-this-page-hide-content");
  this.$overlay = document.createElement("div");
  this.$overlay.className = "govuk-exit-this-page-overlay";
  this.$overlay.setAttribute("role", "alert");
  document.body.appendChild(this.$overlay);
  this.$overlay.textContent = this.i18n.t("activated");
  // Straight to the neutral page: leaving never waits for this service, even when it is down.
  window.location.replace(neutralPage || this.$button.href);
};
