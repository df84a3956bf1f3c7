// Draws a QR code that touchpass-web encoded (API.md: finish → phone_setup.qr, made with
// libqrencode) on a canvas: dark modules on white with the standard four-module quiet zone.
// The page holds no QR encoder of its own; it only checks the shape of what it was given.
"use strict";

const TouchpassQr = (() => {
  const quietZone = 4;
  const pixelsPerModule = 6;

  // Whether `qr` is {size, rows} with `size` rows of `size` characters "0"/"1" (versions 1–40).
  function wellFormed(qr) {
    if (!qr || !Number.isInteger(qr.size) || qr.size < 21 || qr.size > 177) return false;
    if (!Array.isArray(qr.rows) || qr.rows.length !== qr.size) return false;
    return qr.rows.every((row) => typeof row === "string" && row.length === qr.size && /^[01]+$/.test(row));
  }

  // Draws `qr` on `canvas` (resizing it); false, leaving the canvas empty, when `qr` is malformed.
  function draw(canvas, qr) {
    if (!wellFormed(qr)) {
      clear(canvas);
      return false;
    }
    const side = (qr.size + 2 * quietZone) * pixelsPerModule;
    canvas.width = side;
    canvas.height = side;
    const context = canvas.getContext("2d");
    context.fillStyle = "#fff";
    context.fillRect(0, 0, side, side);
    context.fillStyle = "#000";
    qr.rows.forEach((row, y) => {
      for (let x = 0; x < qr.size; x++) {
        if (row[x] === "1") {
          context.fillRect(
            (x + quietZone) * pixelsPerModule,
            (y + quietZone) * pixelsPerModule,
            pixelsPerModule,
            pixelsPerModule,
          );
        }
      }
    });
    return true;
  }

  // Empties `canvas` (the code is a single-use secret: nothing of it stays drawn).
  function clear(canvas) {
    canvas.width = 0;
    canvas.height = 0;
  }

  return { draw, clear };
})();
