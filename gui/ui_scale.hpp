// The look of the whole program: the zoom (one factor for the font and every size of the style,
// for a projector or a high-density screen) and the colours that must read at a glance (the
// selected tab). The window applies it at start and whenever the zoom changes; the headless
// tests apply it as the window would.
#pragma once

namespace forklore::gui {

inline constexpr float kMinZoom = 0.75f;
inline constexpr float kMaxZoom = 3.0f;
// The zooms the View control offers (any value in [kMinZoom, kMaxZoom] is accepted by --zoom).
inline constexpr float kZoomSteps[] = {0.75f, 1.0f, 1.25f, 1.5f, 1.75f, 2.0f, 2.5f, 3.0f};

// A zoom given by a user, clamped to [kMinZoom, kMaxZoom]; 1 for what is not a finite number.
float clamp_zoom(float zoom);

// Rebuilds the font atlas with the default font at 13 px times `zoom` (sharp, unlike a scaled
// texture), and resets the style to forklore's dark style with every size scaled by `zoom`.
// Must be called between frames (not between NewFrame and Render). The caller uploads the new
// font texture to its renderer, if it has one.
void apply_ui_scale(float zoom);

} // namespace forklore::gui
