import { definePreset, palette, updatePreset } from '@primeuix/themes'
import Aura from '@primeuix/themes/aura'

export const DEFAULT_BRAND = '#0f766e'

/** Dark text on light brand colours, white on the rest (WCAG relative luminance). */
export function readableOn(hex: string): string {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4))
  const lum = 0.2126 * r! + 0.7152 * g! + 0.0722 * b!
  return lum > 0.4 ? '#0f172a' : '#ffffff'
}

// Aura's light text on its tinted backgrounds (toasts, messages, unselected toggle buttons,
// text and outlined buttons of a severity) is below WCAG AA's 4.5:1: darker shades of the same
// hues keep the look and pass (axe-core checks every screen, docs/adr/0803).
const tint = (hue: string, shade: number) => ({ color: `{${hue}.${shade}}` })
const severityText = { success: tint('green', 700), info: tint('sky', 700), warn: tint('orange', 700), help: tint('purple', 700), danger: tint('red', 700) }
const notice = (hue: string, shade: number) => ({ color: `{${hue}.${shade}}`, outlined: { color: `{${hue}.${shade}}` }, simple: { color: `{${hue}.${shade}}` } })

// Aura with the clinic's colour as primary (its 500 shade; teal by default) and slate surfaces.
export const CuspidePreset = definePreset(Aura, {
  components: {
    message: { colorScheme: { light: { info: notice('blue', 700), success: notice('green', 800), warn: notice('yellow', 800), error: notice('red', 700) } } },
    toast: { colorScheme: { light: { info: tint('blue', 700), success: tint('green', 800), warn: tint('yellow', 800), error: tint('red', 700) } } },
    togglebutton: { colorScheme: { light: { root: { color: '{surface.600}' }, icon: { color: '{surface.600}' } } } },
    // A filled danger button (a confirmation's "Revoke", "Discard"): white on Aura's red 500 is
    // 3.8:1; red 700 passes.
    button: {
      colorScheme: {
        light: {
          text: severityText,
          outlined: severityText,
          root: { danger: { background: '{red.700}', hoverBackground: '{red.800}', activeBackground: '{red.900}', borderColor: '{red.700}', hoverBorderColor: '{red.800}', activeBorderColor: '{red.900}', color: '#ffffff', hoverColor: '#ffffff', activeColor: '#ffffff' } },
        },
      },
    },
  },
  semantic: {
    primary: palette(DEFAULT_BRAND),
    colorScheme: {
      light: {
        primary: { color: '{primary.500}', contrastColor: '#ffffff', hoverColor: '{primary.600}', activeColor: '{primary.700}' },
        surface: {
          0: '#ffffff', 50: '{slate.50}', 100: '{slate.100}', 200: '{slate.200}', 300: '{slate.300}', 400: '{slate.400}',
          500: '{slate.500}', 600: '{slate.600}', 700: '{slate.700}', 800: '{slate.800}', 900: '{slate.900}', 950: '{slate.950}',
        },
      },
    },
  },
})

let applied = DEFAULT_BRAND
/** Retint the components and the app's own accents with the clinic's branding colour. */
export function applyBrand(color: string) {
  document.documentElement.style.setProperty('--brand', color)
  if (color.toLowerCase() === applied.toLowerCase()) return
  applied = color
  updatePreset({ semantic: { primary: palette(color), colorScheme: { light: { primary: { contrastColor: readableOn(color) } } } } })
}
