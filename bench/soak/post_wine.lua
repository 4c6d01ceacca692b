-- wrk script for bench/soak: POSTs one KServe v2 infer request with a wine
-- row (11 features) to /v2/models/<endpoint>/infer.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"inputs":[{"name":"input-0","shape":[1,11],"datatype":"FP64","data":[7.4,0.7,0,1.9,0.076,11,34,0.9978,3.51,0.56,9.4]}]}'
