#pragma once
// Internal to glimport: the two textures an importer puts NV12 planes into.
#include <GL/gl.h>

namespace voxcast::glimport {

// Linear filtering, clamped edges, no mipmaps (complete with level 0 alone, which CUDA
// registration and EGL image binding both need); the current binding is kept.
inline void create_plane_textures(GLuint names[2]) {
  GLint bound = 0;
  glGetIntegerv(GL_TEXTURE_BINDING_2D, &bound);
  glGenTextures(2, names);
  for (int i = 0; i < 2; ++i) {
    glBindTexture(GL_TEXTURE_2D, names[i]);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  }
  glBindTexture(GL_TEXTURE_2D, static_cast<GLuint>(bound));
}

}  // namespace voxcast::glimport
