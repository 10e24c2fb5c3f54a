// The X-ray viewer's arithmetic, kept apart from the component so it is tested on its own:
// window/level on the web rendition, where a pointer on screen lands on the image (pan, zoom
// and rotation undone), and lengths in millimetres from the DICOM's pixel spacing.
//
// What window/level can and cannot show here: the browser only has the 8-bit renditions the
// worker made (the full bit depth of a 12- or 16-bit DICOM was already windowed by the worker
// with the file's own window, or a percentile window, into 0..255). Window/level re-maps those
// 256 grey levels: it stretches the contrast of a band (say, the enamel, or a periapical
// lesion) and can hide what lies outside it, but it cannot bring back detail the 8-bit
// rendition clipped to pure black or white, nor show Hounsfield units. Values on this scale
// are 0..255 grey levels of the rendition, not the original's stored values.

export interface WindowLevel {
  /** Centre of the window, 0..255 grey levels of the rendition. */
  center: number
  /** Width of the window, 2..256 grey levels. */
  width: number
}

export const FULL_WINDOW: WindowLevel = { center: 128, width: 256 }

/**
 * Presets for dental radiographs, on the rendition's 0..255 scale. `default` shows the
 * rendition as the worker made it; the others narrow the window onto the dense band (enamel,
 * restorations, cortical bone), the middle band (dentine and trabecular bone) or the dark band
 * (soft tissue, caries, radiolucent lesions).
 */
export const PRESETS = {
  default: { center: 128, width: 256 },
  contrast: { center: 128, width: 128 },
  bone: { center: 170, width: 120 },
  dentine: { center: 128, width: 96 },
  lucent: { center: 80, width: 120 },
} as const satisfies Record<string, WindowLevel>
export type Preset = keyof typeof PRESETS

export const MIN_WIDTH = 2
export const MAX_WIDTH = 256

export function clampWindow(w: WindowLevel): WindowLevel {
  return {
    center: Math.round(Math.min(255, Math.max(0, w.center))),
    width: Math.round(Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, w.width))),
  }
}

/**
 * The linear map of a grey level g (0..1) to the output (0..1, clamped by the browser) that
 * shows the window `w` across the full output range, inverted if asked:
 * out = slope·g + intercept, as an SVG feFuncR/G/B type="linear" takes it. The window is DICOM's
 * LINEAR function (PS3.3 C.11.2.1.2.1) on 0..255, so centre 128 / width 256 is the identity.
 */
export function windowTransfer(w: WindowLevel, invert = false): { slope: number; intercept: number } {
  const { center, width } = clampWindow(w)
  const slope = 255 / (width - 1)
  const intercept = (0.5 - center) / (width - 1) + 0.5
  return invert ? { slope: -slope, intercept: 1 - intercept } : { slope, intercept }
}

/** The 8-bit output of grey level `g` (0..255) under `w` (what the filter does, for tests). */
export function applyWindow(g: number, w: WindowLevel, invert = false): number {
  const { slope, intercept } = windowTransfer(w, invert)
  return Math.round(Math.min(1, Math.max(0, slope * (g / 255) + intercept)) * 255)
}

/**
 * Dragging with the window/level tool: right widens the window, left narrows it; down
 * darkens the image (raises the level), up brightens it; one grey level per pixel dragged.
 */
export function dragWindow(start: WindowLevel, dx: number, dy: number): WindowLevel {
  return clampWindow({ center: start.center + dy, width: start.width + dx })
}

export interface Point { x: number; y: number }

/** Rotation in quarter turns (0, 90, 180, 270 degrees clockwise). */
export type Rotation = 0 | 90 | 180 | 270
export const rotateBy = (r: Rotation, by: 90 | -90): Rotation => ((((r + by) % 360) + 360) % 360) as Rotation

/** The size (px) of the image at zoom 1: fitted inside the stage once rotated. */
export function fitSize(natural: { w: number; h: number }, stage: { w: number; h: number }, rotation: Rotation) {
  if (!natural.w || !natural.h || !stage.w || !stage.h) return { w: 0, h: 0 }
  const turned = rotation === 90 || rotation === 270
  const [bw, bh] = turned ? [natural.h, natural.w] : [natural.w, natural.h]
  const s = Math.min(stage.w / bw, stage.h / bh)
  return { w: natural.w * s, h: natural.h * s }
}

export interface View {
  /** The stage's centre on screen (client px). */
  center: Point
  pan: Point
  zoom: number
  rotation: Rotation
  /** The image's size at zoom 1 (fitSize). */
  size: { w: number; h: number }
}

/**
 * Where a point on screen falls on the image, as fractions of its width and height (0..1 inside
 * the image; the same for every rendition). The image is drawn as
 * translate(pan) rotate(rotation) scale(zoom) about the stage's centre: undo it in reverse.
 */
export function screenToImage(p: Point, v: View): Point {
  const dx = p.x - v.center.x - v.pan.x
  const dy = p.y - v.center.y - v.pan.y
  const a = (-v.rotation * Math.PI) / 180
  const rx = (dx * Math.cos(a) - dy * Math.sin(a)) / v.zoom
  const ry = (dx * Math.sin(a) + dy * Math.cos(a)) / v.zoom
  return { x: rx / v.size.w + 0.5, y: ry / v.size.h + 0.5 }
}

export interface Calibration {
  /** DICOM PixelSpacing order: [between rows (vertical), between columns (horizontal)], mm. */
  spacing: [number, number]
  rows: number
  columns: number
}

/**
 * The length in millimetres between two points given as fractions of the image (see
 * screenToImage), or null without a usable calibration. Pixels need not be square.
 */
export function lengthMm(a: Point, b: Point, cal: Calibration | null): number | null {
  if (!cal) return null
  const [rowMm, colMm] = cal.spacing
  if (!(rowMm > 0 && colMm > 0 && cal.rows > 0 && cal.columns > 0)) return null
  const dx = (b.x - a.x) * cal.columns * colMm
  const dy = (b.y - a.y) * cal.rows * rowMm
  return Math.hypot(dx, dy)
}

/** The calibration of an image, when its DICOM header gave one. */
export function calibrationOf(dicom: { pixel_spacing?: number[] | null; rows?: number | null; columns?: number | null } | null | undefined): Calibration | null {
  const s = dicom?.pixel_spacing
  if (!s || s.length !== 2 || !dicom?.rows || !dicom?.columns) return null
  if (!(s[0]! > 0 && s[1]! > 0)) return null
  return { spacing: [s[0]!, s[1]!], rows: dicom.rows, columns: dicom.columns }
}
