// The 3D brick residency of the picture shown, as the Qt viewer's status bar has it
// (apps/viewer/viewer_window.cpp) and like Neuroglancer's chunk statistics: the pyramid
// levels the picture sampled and the wanted bricks not yet resident, from the frame-meta
// SEI (levels_drawn, bricks_loading). "" when levels_drawn is 0 (2D, or a volume drawn
// whole): the badge is hidden then.
export const MAX_LEVELS = 16; // levels_drawn is a u16

export function residencyText(levels_drawn: number, bricks_loading: number): string {
  if (levels_drawn === 0) return "";
  let out = "3D";
  for (let l = 0; l < MAX_LEVELS; l++) if (levels_drawn & (1 << l)) out += ` L${l}`;
  return out + (bricks_loading > 0 ? ` · ${bricks_loading} bricks loading` : " · all resident");
}
