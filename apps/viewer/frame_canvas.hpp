#pragma once
// The video canvas: the presented frame's Y, U and V planes uploaded as three textures
// and converted to RGB in a fragment shader (BT.709 limited range, as the encoder signals),
// drawn letterboxed at the video's aspect ratio. When the GL context can take the
// hardware decoder's pictures where they are (NVDEC with GL on that GPU, VA-API with an
// EGL context), they never leave the GPU: the core keeps them there and a
// glimport::FrameImporter puts them into two NV12 textures. The canvas holds the frame's
// lease in the renderer role while its textures show it and releases it when the next
// one replaces it (an aliasing importer's textures are the picture's memory). Mouse input
// leaves as signals in video pixels; the window turns it into camera intents.
#include <QOpenGLBuffer>
#include <QOpenGLFunctions>
#include <QOpenGLShaderProgram>
#include <QOpenGLWidget>
#include <QPointF>
#include <memory>

#include "voxcast/client/frame_lease.hpp"
#include "voxcast/glimport/frame_importer.hpp"

namespace voxcast::client {
class ClientStreamLoop;
}

namespace voxcast::viewer {

class FrameCanvas : public QOpenGLWidget, protected QOpenGLFunctions {
  Q_OBJECT
 public:
  explicit FrameCanvas(QWidget* parent = nullptr);
  ~FrameCanvas() override;

  // The loop frames come from (null: none); the canvas asks it for the presented frame.
  void set_source(client::ClientStreamLoop* loop);
  // Lets go of the shown frame (the session is closing).
  void drop_frame();
  // Where the video is drawn, in widget coordinates (empty before the first frame).
  QRectF video_rect() const;
  QSize video_size() const { return video_size_; }
  uint64_t frames_drawn() const { return frames_drawn_; }
  // Whether the picture on screen is an exact still (the server's render, lossless).
  bool showing_exact() const { return showing_rgba_; }
  // How frames reach the textures: "GPU (CUDA-GL, <device>)", "GPU (VA-API dma-buf, EGL)"
  // or "system memory (<why>)";
  // empty until the GL context exists.
  const QString& frame_path() const { return frame_path_; }
  uint64_t frames_from_gpu() const { return frames_from_gpu_; }
  // A widget position in video pixels (origin top-left), clamped to the video.
  QPointF to_video(const QPointF& widget_pos) const;

 public slots:
  // A new frame was presented (queued from the media thread): upload it on the next paint.
  void frame_presented();

 signals:
  void wheel_zoom(QPointF video_px, double steps);           // steps > 0: zoom in
  void drag(QPointF delta_video_px, Qt::MouseButtons buttons, Qt::KeyboardModifiers mods);
  void drag_finished();
  void reset_view();
  void first_frame();

 protected:
  void initializeGL() override;
  void paintGL() override;
  void wheelEvent(QWheelEvent* e) override;
  void mousePressEvent(QMouseEvent* e) override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void mouseReleaseEvent(QMouseEvent* e) override;
  void mouseDoubleClickEvent(QMouseEvent* e) override;

 private:
  void upload(const codec::YuvImage& frame);
  // Puts `frame` into the textures (GPU import, or system memory); false if it could not.
  bool take(const codec::YuvImage& frame);
  void use_system_memory(const std::string& why);

  client::ClientStreamLoop* loop_ = nullptr;
  std::shared_ptr<client::FrameLease> shown_;  // renderer role held while its textures show
  bool pending_ = false;
  QOpenGLShaderProgram program_;       // I420 from three textures
  QOpenGLShaderProgram program_nv12_;  // NV12 from the importer's two
  QOpenGLShaderProgram program_rgba_;  // an exact still (RGBA in the first texture)
  bool showing_rgba_ = false;
  GLuint textures_[3] = {0, 0, 0};
  std::unique_ptr<glimport::FrameImporter> importer_;
  bool showing_nv12_ = false;
  QString frame_path_;
  uint64_t frames_from_gpu_ = 0;
  QSize video_size_;
  uint64_t frames_drawn_ = 0;
  QPointF last_mouse_;
  bool dragging_ = false;
};

}  // namespace voxcast::viewer
