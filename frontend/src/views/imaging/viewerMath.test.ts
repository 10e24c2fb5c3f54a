import { describe, expect, it } from 'vitest'
import { PRESETS, applyWindow, calibrationOf, clampWindow, dragWindow, fitSize, lengthMm, rotateBy, screenToImage, windowTransfer } from './viewerMath'

describe('window/level on the 8-bit rendition', () => {
  it('the default window leaves every grey level as it is', () => {
    for (const g of [0, 1, 64, 127, 128, 200, 254, 255]) expect(applyWindow(g, PRESETS.default)).toBe(g)
    const t = windowTransfer(PRESETS.default)
    expect(t.slope).toBeCloseTo(1, 12)
    expect(t.intercept).toBeCloseTo(0, 12)
  })

  it('a narrow window stretches its band to black..white and clips outside it', () => {
    const w = { center: 100, width: 51 } // 75..125
    expect(applyWindow(70, w)).toBe(0)
    expect(applyWindow(75, w)).toBeLessThanOrEqual(3)
    expect(applyWindow(100, w)).toBeGreaterThanOrEqual(126)
    expect(applyWindow(100, w)).toBeLessThanOrEqual(130)
    expect(applyWindow(125, w)).toBeGreaterThanOrEqual(252)
    expect(applyWindow(200, w)).toBe(255)
    // monotonic inside the band
    let last = -1
    for (let g = 70; g <= 130; g++) {
      const v = applyWindow(g, w)
      expect(v).toBeGreaterThanOrEqual(last)
      last = v
    }
  })

  it('invert mirrors the output', () => {
    for (const g of [0, 40, 128, 255]) {
      expect(applyWindow(g, PRESETS.default, true)).toBe(255 - g)
      expect(applyWindow(g, PRESETS.bone, true)).toBe(255 - applyWindow(g, PRESETS.bone))
    }
  })

  it('every preset is a valid window', () => {
    for (const p of Object.values(PRESETS)) expect(clampWindow(p)).toEqual(p)
  })

  it('dragging right widens, down raises the level, within bounds', () => {
    expect(dragWindow({ center: 128, width: 100 }, 20, -10)).toEqual({ center: 118, width: 120 })
    expect(dragWindow({ center: 10, width: 10 }, -500, -500)).toEqual({ center: 0, width: 2 })
    expect(dragWindow({ center: 250, width: 250 }, 500, 500)).toEqual({ center: 255, width: 256 })
  })
})

describe('geometry', () => {
  it('rotates by quarter turns both ways', () => {
    expect(rotateBy(0, 90)).toBe(90)
    expect(rotateBy(270, 90)).toBe(0)
    expect(rotateBy(0, -90)).toBe(270)
  })

  it('fits the image in the stage, turned or not', () => {
    expect(fitSize({ w: 2000, h: 1000 }, { w: 1000, h: 800 }, 0)).toEqual({ w: 1000, h: 500 })
    // turned a quarter, the 1000 px height lies across the 1000 px wide stage; the 2000 px width must fit 800 px
    expect(fitSize({ w: 2000, h: 1000 }, { w: 1000, h: 800 }, 90)).toEqual({ w: 800, h: 400 })
    expect(fitSize({ w: 0, h: 0 }, { w: 1000, h: 800 }, 0)).toEqual({ w: 0, h: 0 })
  })

  const view = { center: { x: 500, y: 400 }, pan: { x: 0, y: 0 }, zoom: 1, rotation: 0 as const, size: { w: 400, h: 200 } }

  it('maps the screen to the image: centre, corners', () => {
    expect(screenToImage({ x: 500, y: 400 }, view)).toEqual({ x: 0.5, y: 0.5 })
    expect(screenToImage({ x: 300, y: 300 }, view)).toEqual({ x: 0, y: 0 })
    expect(screenToImage({ x: 700, y: 500 }, view)).toEqual({ x: 1, y: 1 })
  })

  it('undoes pan and zoom', () => {
    const p = screenToImage({ x: 500 + 30 + 200, y: 400 - 10 + 100 }, { ...view, pan: { x: 30, y: -10 }, zoom: 2 })
    expect(p.x).toBeCloseTo(0.75, 12)
    expect(p.y).toBeCloseTo(0.75, 12)
  })

  it('undoes a quarter turn clockwise: the image top-left corner is then at the top right', () => {
    // turned 90°, the image's top-left corner (-200, -100 from the centre) lands at (+100, -200)
    const p = screenToImage({ x: 600, y: 200 }, { ...view, rotation: 90 })
    expect(p.x).toBeCloseTo(0, 12)
    expect(p.y).toBeCloseTo(0, 12)
    const q = screenToImage({ x: 300, y: 300 }, { ...view, rotation: 180 })
    expect(q.x).toBeCloseTo(1, 12)
    expect(q.y).toBeCloseTo(1, 12)
  })
})

describe('length in millimetres', () => {
  const cal = { spacing: [0.035, 0.035] as [number, number], rows: 1000, columns: 760 }

  it('measures across the full width and height', () => {
    expect(lengthMm({ x: 0, y: 0 }, { x: 1, y: 0 }, cal)).toBeCloseTo(26.6, 9)
    expect(lengthMm({ x: 0, y: 0 }, { x: 0, y: 1 }, cal)).toBeCloseTo(35, 9)
    expect(lengthMm({ x: 0, y: 0 }, { x: 1, y: 1 }, cal)).toBeCloseTo(Math.hypot(26.6, 35), 9)
  })

  it('takes the row spacing vertically and the column spacing horizontally', () => {
    const c = { spacing: [0.2, 0.1] as [number, number], rows: 100, columns: 100 }
    expect(lengthMm({ x: 0, y: 0 }, { x: 0.5, y: 0 }, c)).toBeCloseTo(5, 9) // 50 columns × 0.1
    expect(lengthMm({ x: 0, y: 0 }, { x: 0, y: 0.5 }, c)).toBeCloseTo(10, 9) // 50 rows × 0.2
  })

  it('says nothing without a calibration', () => {
    expect(lengthMm({ x: 0, y: 0 }, { x: 1, y: 1 }, null)).toBeNull()
    expect(calibrationOf(null)).toBeNull()
    expect(calibrationOf({ pixel_spacing: null, rows: 10, columns: 10 })).toBeNull()
    expect(calibrationOf({ pixel_spacing: [0, 0.1], rows: 10, columns: 10 })).toBeNull()
    expect(calibrationOf({ pixel_spacing: [0.1, 0.1], rows: null, columns: 10 })).toBeNull()
    expect(calibrationOf({ pixel_spacing: [0.1, 0.2], rows: 10, columns: 20 })).toEqual({ spacing: [0.1, 0.2], rows: 10, columns: 20 })
  })
})
