"""Triton python-backend model that runs an fcn_trt pipeline graph with ONNX Runtime.

``fcn-trt serve`` copies this file to ``REPO/NAME/1/model.py``. It runs inside Triton's python
backend stub, in the *server's* interpreter (see :mod:`fcn_trt.serve.server`), which need not have
fcn_trt installed: it imports numpy, onnxruntime and ``triton_python_backend_utils`` only.

With dynamic batching Triton hands :meth:`TritonPythonModel.execute` several requests at once; the
python backend does not concatenate them (the model must), so requests with the same frame size are
stacked into one ONNX Runtime call and the outputs split back per request.
"""

import json
import os

import numpy as np
import onnxruntime as ort
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        params = {k: v.get("string_value", "") for k, v in config.get("parameters", {}).items()}
        path = os.path.join(args["model_repository"], args["model_version"], params.get("fcn_trt.onnx_file", "model.onnx"))
        opts = ort.SessionOptions()
        threads = int(params.get("fcn_trt.intra_op_threads", "0") or 0)
        if threads:
            opts.intra_op_num_threads = threads
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(path, sess_options=opts, providers=["CPUExecutionProvider"])
        self.output_names = [o["name"] for o in config["output"]]
        batch = self.session.get_inputs()[0].shape[0]
        self.graph_batch = batch if isinstance(batch, int) and batch > 0 else 0

    def _run(self, frames):
        step = self.graph_batch or len(frames)
        parts = [self.session.run(self.output_names, {"frame": frames[i:i + step]}) for i in range(0, len(frames), step)]
        return [np.concatenate([p[k] for p in parts]) if len(parts) > 1 else parts[0][k] for k in range(len(self.output_names))]

    def execute(self, requests):
        frames = [pb_utils.get_input_tensor_by_name(r, "frame").as_numpy() for r in requests]
        groups = {}
        for i, f in enumerate(frames):
            groups.setdefault(f.shape[1:], []).append(i)
        responses = [None] * len(requests)
        for members in groups.values():
            try:
                batch = np.concatenate([frames[i] for i in members]) if len(members) > 1 else frames[members[0]]
                outs = self._run(np.ascontiguousarray(batch))
            except Exception as e:  # one failing group must not fail the others
                for i in members:
                    responses[i] = pb_utils.InferenceResponse(output_tensors=[], error=pb_utils.TritonError(
                        "fcn_trt pipeline failed on frames of shape %s: %s" % (frames[i].shape, e)))
                continue
            start = 0
            for i in members:
                n = len(frames[i])
                tensors = [pb_utils.Tensor(name, np.ascontiguousarray(out[start:start + n]))
                           for name, out in zip(self.output_names, outs)]
                responses[i] = pb_utils.InferenceResponse(output_tensors=tensors)
                start += n
        return responses

    def finalize(self):
        self.session = None
