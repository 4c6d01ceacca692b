-- wrk script for bench/serve: POSTs one KServe v2 infer request (the iris
-- features of request_56.json) to /v2/models/<name>/infer.
--   wrk -t1 -c64 -d10s --latency -s bench/serve/post_v2.lua http://127.0.0.1:8080/v2/models/iris/infer

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"inputs":[{"name":"input-0","shape":[1,4],"datatype":"FP32","data":[6.3,3.3,4.7,1.6]}]}'
