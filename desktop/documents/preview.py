"""An on-screen preview of a PDF, page by page, before it is printed; and the same view for a kept
document reopened exactly as printed.

Pages are rendered to images with pypdfium2 (Python bindings to PDFium, the PDF engine of Chrome): Qt's
own PDF module (QtPdf) is not in PySide6-Essentials, and reportlab only writes PDFs, it cannot draw one
back. Rendering the real bytes means the preview shows exactly what will be printed and kept.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtWidgets import (QDialog, QFileDialog, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget)

from ..widgets.common import button, show_error


def render_pages(pdf: bytes, scale: float = 1.3) -> list[QImage]:
    """Each page of the PDF as an image (scale 1 = 72 dpi)."""
    import pypdfium2 as pdfium
    doc = pdfium.PdfDocument(pdf)
    images = []
    try:
        for page in doc:
            bitmap = page.render(scale=scale)
            pil = bitmap.to_pil().convert("RGB")
            data = pil.tobytes("raw", "RGB")
            image = QImage(data, pil.width, pil.height, pil.width * 3, QImage.Format_RGB888).copy()
            images.append(image)
            page.close()
    finally:
        doc.close()
    return images


class PdfPreview(QDialog):
    """Pages of one PDF. For a document not yet printed, Print and Save keep it with the record first
    (`printed` carries the KeptDocument); for a kept one the same buttons give the copy as it was."""
    printed = Signal(object)

    def __init__(self, title: str, pdf: bytes, *, keep=None, file_name: str = "document.pdf", parent=None):
        super().__init__(parent)
        self.pdf, self.keep, self.file_name = pdf, keep, file_name
        self.kept = None
        self.setWindowTitle(f"Preview: {title}")
        self.setAccessibleName(f"Preview of {title}")
        self.resize(900, 700)
        layout = QVBoxLayout(self)
        self.pages = render_pages(pdf)
        note = QLabel(f"{len(self.pages)} page{'s' if len(self.pages) != 1 else ''}. "
                      + ("Check it, then print it or save it: it is kept with the record as printed."
                         if keep else "Kept with the record exactly as printed."))
        note.setWordWrap(True)
        layout.addWidget(note)
        scroll = QScrollArea()
        scroll.setAccessibleName("Pages")
        holder = QWidget()
        pages = QVBoxLayout(holder)
        self.page_labels = []
        for n, image in enumerate(self.pages, 1):
            label = QLabel()
            label.setPixmap(QPixmap.fromImage(image))
            label.setAccessibleName(f"Page {n} of {len(self.pages)}")
            label.setAlignment(Qt.AlignHCenter)
            pages.addWidget(label)
            self.page_labels.append(label)
        scroll.setWidget(holder)
        scroll.setWidgetResizable(True)
        layout.addWidget(scroll, 1)
        row = QHBoxLayout()
        self.print_button = button("Print\u2026", "Print", tip="Send to a printer" + (" and keep it with the record"
                                                                                       if keep else ""))
        self.save_button = button("Save as PDF\u2026", "Save as PDF")
        self.close_button = button("Close", "Close preview")
        row.addStretch(1)
        for b in (self.print_button, self.save_button, self.close_button):
            row.addWidget(b)
        layout.addLayout(row)
        self.print_button.clicked.connect(self.send_to_printer)
        self.save_button.clicked.connect(self.save_as)
        self.close_button.clicked.connect(self.reject)

    def _keep(self, out=None) -> bool:
        """Keep it with the record (once) and write it to `out`; False when refused."""
        if self.keep is None:
            if out is not None:
                from pathlib import Path
                Path(out).write_bytes(self.pdf)
            return True
        if self.kept is not None:
            if out is not None:
                from pathlib import Path
                Path(out).write_bytes(self.pdf)
            return True
        try:
            self.kept = self.keep(out)
        except Exception as exc:      # the store's refusal in plain words; nothing kept
            show_error(self, exc)
            return False
        self.printed.emit(self.kept)
        return True

    def save_to(self, path) -> bool:
        """Save to a file (and keep with the record): what Save as PDF does after its dialog."""
        return self._keep(str(path))

    def save_as(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save as PDF", self.file_name, "PDF files (*.pdf)")
        if path:
            if self.save_to(path):
                self.accept()

    def send_to_printer(self) -> None:
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter
        printer = QPrinter(QPrinter.HighResolution)
        dialog = QPrintDialog(printer, self)
        if dialog.exec() != QDialog.Accepted:
            return
        if not self._keep(None):
            return
        painter = QPainter(printer)
        try:
            for n, image in enumerate(self.pages):
                if n:
                    printer.newPage()
                target = painter.viewport()
                scaled = image.scaled(target.size(), Qt.KeepAspectRatio, Qt.SmoothTransformation)
                painter.drawImage(0, 0, scaled)
        finally:
            painter.end()
        self.accept()
