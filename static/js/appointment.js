// Booking an appointment: the length follows the kind. Each kind's usual length comes
// from the server (data-lengths on the kind's select, IOP_APPOINTMENT_MINUTES); a length
// the person typed themselves is kept. Without this script a blank length takes the
// kind's usual length on the server.
(function () {
  "use strict";
  var kind = document.querySelector("select[name=kind][data-lengths]");
  var minutes = document.querySelector("input[name=minutes]");
  if (!kind || !minutes) { return; }
  var lengths = JSON.parse(kind.dataset.lengths);
  var previous = kind.value;

  kind.addEventListener("change", function () {
    var before = lengths[previous];
    // Blank, or still the last kind's usual length: nobody chose it, so follow the kind.
    if (minutes.value === "" || Number(minutes.value) === before) {
      minutes.value = lengths[kind.value] === undefined ? "" : lengths[kind.value];
    }
    previous = kind.value;
  });
})();
