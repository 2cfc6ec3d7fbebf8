#include "frame_canvas.hpp"

#include <QMouseEvent>
#include <QWheelEvent>

#include "voxcast/client/stream_loop.hpp"
#include "voxcast/codec/device_picture.hpp"
#include "voxcast/core/log.hpp"

namespace voxcast::viewer {

namespace {
const char* kVertex = R"(
attribute vec2 position;
attribute vec2 texcoord;
varying vec2 uv;
void main() {
  uv = texcoord;
  gl_Position = vec4(position, 0.0, 1.0);
})";

// BT.709, limited ("tv") range: what voxcast's encoder writes and signals in its VUI.
// The two layouts differ only in where U and V are sampled from.
#define VOXCAST_YUV_TO_RGB                                          \
  "  y = (y - 16.0 / 255.0) * (255.0 / 219.0);\n"                  \
  "  u = (u - 128.0 / 255.0) * (255.0 / 224.0);\n"                 \
  "  v = (v - 128.0 / 255.0) * (255.0 / 224.0);\n"                 \
  "  gl_FragColor = vec4(clamp(vec3(y + 1.5748 * v, y - 0.1873 * u - 0.4681 * v, y + 1.8556 * u), 0.0, 1.0), 1.0);\n"
const char* kFragmentI420 =
    "varying vec2 uv;\n"
    "uniform sampler2D plane_y;\n"
    "uniform sampler2D plane_u;\n"
    "uniform sampler2D plane_v;\n"
    "void main() {\n"
    "  float y = texture2D(plane_y, uv).r;\n"
    "  float u = texture2D(plane_u, uv).r;\n"
    "  float v = texture2D(plane_v, uv).r;\n" VOXCAST_YUV_TO_RGB "}\n";
const char* kFragmentNv12 =
    "varying vec2 uv;\n"
    "uniform sampler2D plane_y;\n"
    "uniform sampler2D plane_uv;\n"
    "void main() {\n"
    "  float y = texture2D(plane_y, uv).r;\n"
    "  vec2 c = texture2D(plane_uv, uv).rg;\n"
    "  float u = c.r;\n"
    "  float v = c.g;\n" VOXCAST_YUV_TO_RGB "}\n";
#undef VOXCAST_YUV_TO_RGB
// An exact still is the server's RGB, shown as it is.
const char* kFragmentRgba =
    "varying vec2 uv;\n"
    "uniform sampler2D plane_rgba;\n"
    "void main() { gl_FragColor = vec4(texture2D(plane_rgba, uv).rgb, 1.0); }\n";

void build_program(QOpenGLShaderProgram* program, const char* fragment) {
  program->addShaderFromSourceCode(QOpenGLShader::Vertex, kVertex);
  program->addShaderFromSourceCode(QOpenGLShader::Fragment, fragment);
  program->bindAttributeLocation("position", 0);
  program->bindAttributeLocation("texcoord", 1);
  program->link();
}
}  // namespace

FrameCanvas::FrameCanvas(QWidget* parent) : QOpenGLWidget(parent) {
  setMouseTracking(false);
  setFocusPolicy(Qt::StrongFocus);
  setMinimumSize(160, 120);
}

FrameCanvas::~FrameCanvas() {
  drop_frame();
  if (textures_[0] && context()) {
    makeCurrent();
    importer_.reset();  // its textures belong to this context
    glDeleteTextures(3, textures_);
    doneCurrent();
  }
}

void FrameCanvas::set_source(client::ClientStreamLoop* loop) {
  drop_frame();
  loop_ = loop;
  if (loop_ && importer_) loop_->keep_frames_on_device(true);
}

void FrameCanvas::use_system_memory(const std::string& why) {
  importer_.reset();
  showing_nv12_ = false;
  frame_path_ = QString::fromStdString("system memory (" + why + ")");
  if (loop_) loop_->keep_frames_on_device(false);
}

void FrameCanvas::drop_frame() {
  if (shown_) shown_->release(client::LeaseRole::renderer);
  shown_.reset();
  pending_ = false;
}

void FrameCanvas::frame_presented() {
  pending_ = true;
  update();
}

QRectF FrameCanvas::video_rect() const {
  if (video_size_.isEmpty()) return {};
  const double sx = width() / static_cast<double>(video_size_.width());
  const double sy = height() / static_cast<double>(video_size_.height());
  const double s = std::min(sx, sy);
  const double w = video_size_.width() * s, h = video_size_.height() * s;
  return QRectF((width() - w) / 2.0, (height() - h) / 2.0, w, h);
}

QPointF FrameCanvas::to_video(const QPointF& p) const {
  QRectF r = video_rect();
  if (r.isEmpty()) return {};
  double x = (p.x() - r.left()) / r.width() * video_size_.width();
  double y = (p.y() - r.top()) / r.height() * video_size_.height();
  return QPointF(std::clamp(x, 0.0, static_cast<double>(video_size_.width())),
                 std::clamp(y, 0.0, static_cast<double>(video_size_.height())));
}

void FrameCanvas::initializeGL() {
  initializeOpenGLFunctions();
  build_program(&program_, kFragmentI420);
  build_program(&program_nv12_, kFragmentNv12);
  build_program(&program_rgba_, kFragmentRgba);
  // Hardware-decoded pictures stay on the GPU when this context can take them there.
  auto opened = glimport::open_frame_importer();
  if (opened.importer) {
    importer_ = std::move(opened.importer);
    frame_path_ = QString::fromStdString("GPU (" + importer_->describe() + ")");
    if (loop_) loop_->keep_frames_on_device(true);
  } else {
    use_system_memory(opened.why_not);
  }
  log_info("viewer", "frames reach the canvas through " + frame_path_.toStdString());
  glGenTextures(3, textures_);
  for (GLuint t : textures_) {
    glBindTexture(GL_TEXTURE_2D, t);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  }
}

void FrameCanvas::upload(const codec::YuvImage& f) {
  glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
  const uint8_t* planes[3] = {f.y.data(), f.u.data(), f.v.data()};
  for (int i = 0; i < 3; ++i) {
    const int w = i == 0 ? f.width : f.width / 2, h = i == 0 ? f.height : f.height / 2;
    glBindTexture(GL_TEXTURE_2D, textures_[i]);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_R8, w, h, 0, GL_RED, GL_UNSIGNED_BYTE, planes[i]);
  }
}

bool FrameCanvas::take(const codec::YuvImage& frame) {
  showing_rgba_ = frame.exact();
  if (showing_rgba_) {
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glBindTexture(GL_TEXTURE_2D, textures_[0]);  // the Y plane's texture holds the still
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, frame.width, frame.height, 0, GL_RGBA, GL_UNSIGNED_BYTE, frame.rgba.data());
    showing_nv12_ = false;
    return true;
  }
  if (!frame.device) {
    upload(frame);
    showing_nv12_ = false;
    return true;
  }
  if (importer_) {
    if (auto err = importer_->import(*frame.device); !err) {
      showing_nv12_ = true;
      frames_from_gpu_ += 1;
      return true;
    } else {
      log_error("viewer", "GPU frame import failed, frames go through system memory from now on: " + err->message);
      use_system_memory(err->message);
    }
  }
  // A picture still on the GPU that this context cannot take (a late one after a fall
  // back): it comes over once.
  auto system = codec::in_system_memory(frame);
  if (!system) return false;
  upload(system.value());
  showing_nv12_ = false;
  return true;
}

void FrameCanvas::paintGL() {
  if (pending_ && loop_) {
    pending_ = false;
    auto next = loop_->acquire_presented();
    if (next && next != shown_) {
      auto frame = next->frame(client::LeaseRole::renderer);
      if (frame && take(*frame)) {
        const bool first = video_size_.isEmpty();
        video_size_ = QSize(frame->width, frame->height);
        // The textures now hold the new frame: the old one's renderer role goes.
        if (shown_) shown_->release(client::LeaseRole::renderer);
        shown_ = std::move(next);
        frames_drawn_ += 1;
        if (first) emit first_frame();
      } else {
        next->release(client::LeaseRole::renderer);
      }
    } else if (next) {
      next->release(client::LeaseRole::renderer);  // the same frame: keep the one held
    }
  }
  const qreal dpr = devicePixelRatioF();
  glViewport(0, 0, static_cast<GLsizei>(width() * dpr), static_cast<GLsizei>(height() * dpr));
  glClearColor(0.0f, 0.0f, 0.0f, 1.0f);
  glClear(GL_COLOR_BUFFER_BIT);
  if (video_size_.isEmpty()) return;
  QRectF r = video_rect();
  // Letterbox in normalised device coordinates; texture row 0 is the top of the video.
  const float x0 = static_cast<float>(r.left() / width() * 2 - 1), x1 = static_cast<float>(r.right() / width() * 2 - 1);
  const float y0 = static_cast<float>(1 - r.top() / height() * 2), y1 = static_cast<float>(1 - r.bottom() / height() * 2);
  const GLfloat quad[] = {x0, y1, 0, 1, x1, y1, 1, 1, x0, y0, 0, 0, x1, y0, 1, 0};
  QOpenGLShaderProgram& program = showing_rgba_ ? program_rgba_ : showing_nv12_ ? program_nv12_ : program_;
  program.bind();
  if (showing_rgba_) {
    glActiveTexture(GL_TEXTURE0);
    glBindTexture(GL_TEXTURE_2D, textures_[0]);
    program.setUniformValue("plane_rgba", 0);
  } else if (showing_nv12_) {
    const auto& t = importer_->textures();
    const GLuint planes[2] = {t.luma, t.chroma};
    for (int i = 0; i < 2; ++i) {
      glActiveTexture(GL_TEXTURE0 + static_cast<GLenum>(i));
      glBindTexture(GL_TEXTURE_2D, planes[i]);
    }
    program.setUniformValue("plane_y", 0);
    program.setUniformValue("plane_uv", 1);
  } else {
    for (int i = 0; i < 3; ++i) {
      glActiveTexture(GL_TEXTURE0 + static_cast<GLenum>(i));
      glBindTexture(GL_TEXTURE_2D, textures_[i]);
    }
    program.setUniformValue("plane_y", 0);
    program.setUniformValue("plane_u", 1);
    program.setUniformValue("plane_v", 2);
  }
  program.enableAttributeArray(0);
  program.enableAttributeArray(1);
  program.setAttributeArray(0, GL_FLOAT, quad, 2, 4 * sizeof(GLfloat));
  program.setAttributeArray(1, GL_FLOAT, quad + 2, 2, 4 * sizeof(GLfloat));
  glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
  program.disableAttributeArray(0);
  program.disableAttributeArray(1);
  program.release();
  glActiveTexture(GL_TEXTURE0);
}

void FrameCanvas::wheelEvent(QWheelEvent* e) {
  if (video_size_.isEmpty()) return;
  emit wheel_zoom(to_video(e->position()), e->angleDelta().y() / 120.0);
  e->accept();
}

void FrameCanvas::mousePressEvent(QMouseEvent* e) {
  last_mouse_ = e->position();
  dragging_ = true;
  setFocus();
}

void FrameCanvas::mouseMoveEvent(QMouseEvent* e) {
  if (!dragging_ || video_size_.isEmpty()) return;
  QRectF r = video_rect();
  const double scale = video_size_.width() / r.width();  // widget -> video pixels
  QPointF d = (e->position() - last_mouse_) * scale;
  last_mouse_ = e->position();
  if (d.isNull()) return;
  emit drag(d, e->buttons(), e->modifiers());
}

void FrameCanvas::mouseReleaseEvent(QMouseEvent*) {
  if (dragging_) emit drag_finished();
  dragging_ = false;
}

void FrameCanvas::mouseDoubleClickEvent(QMouseEvent*) { emit reset_view(); }

}  // namespace voxcast::viewer
