/**
 * Every error code of the lab, in one place. Codes are stable: never reuse or renumber one.
 * `status` is the HTTP status the server answers with; `kind` says whose fault it is
 * (n8n's split): `user` (your input), `operational` (transient, may be retried),
 * `unexpected` (a bug, logged with its stack, answered with 500).
 * Documentation anchors: docs/errors.md#lab-e0xx.
 */
export type ErrorKind = 'user' | 'operational' | 'unexpected';

export interface ErrorCodeSpec {
  readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 422 | 429 | 500 | 503;
  readonly kind: ErrorKind;
  readonly zh: string;
  readonly en: string;
}

export const ERROR_CODES = {
  'LAB-E001': { status: 500, kind: 'unexpected', zh: '内部错误', en: 'Internal error' },
  'LAB-E002': { status: 400, kind: 'user', zh: '请求格式错误', en: 'Malformed request' },
  'LAB-E003': { status: 422, kind: 'user', zh: '请求内容校验失败', en: 'Request failed validation' },
  'LAB-E004': { status: 404, kind: 'user', zh: '资源不存在', en: 'Not found' },
  'LAB-E005': { status: 413, kind: 'user', zh: '请求体过大', en: 'Request body too large' },
  'LAB-E006': { status: 429, kind: 'user', zh: '请求过于频繁', en: 'Too many requests' },
  'LAB-E010': { status: 401, kind: 'user', zh: '用户名或密码错误', en: 'Wrong user name or password' },
  'LAB-E011': { status: 401, kind: 'user', zh: '未登录或会话已过期', en: 'Not signed in or session expired' },
  'LAB-E012': { status: 403, kind: 'user', zh: '无权执行此操作', en: 'Not allowed' },
  'LAB-E013': { status: 429, kind: 'user', zh: '登录失败次数过多，账户暂时锁定', en: 'Too many failed logins; account temporarily locked' },
  'LAB-E014': { status: 409, kind: 'user', zh: '用户已存在', en: 'User already exists' },
  'LAB-E020': { status: 503, kind: 'operational', zh: '数据库不可用', en: 'Database unavailable' },
  'LAB-E021': { status: 503, kind: 'operational', zh: '任务队列不可用', en: 'Job queue unavailable' },
  'LAB-E022': { status: 500, kind: 'operational', zh: '数据库初始化失败', en: 'Database provisioning failed' },
  'LAB-E030': { status: 400, kind: 'user', zh: '命令行参数错误', en: 'Bad command-line arguments' },
  'LAB-E031': { status: 400, kind: 'user', zh: '配置错误', en: 'Bad configuration' },
  'LAB-E040': { status: 500, kind: 'operational', zh: '合成数据生成失败', en: 'Synthetic data generation failed' },
  'LAB-E050': { status: 422, kind: 'user', zh: '表达式语法错误', en: 'Expression syntax error' },
  'LAB-E051': { status: 422, kind: 'user', zh: '表达式类型错误', en: 'Expression type error' },
  'LAB-E052': { status: 422, kind: 'user', zh: '未知的列', en: 'Unknown column' },
  'LAB-E053': { status: 422, kind: 'user', zh: '未知或不允许的函数', en: 'Unknown or disallowed function' },
  'LAB-E054': { status: 422, kind: 'user', zh: '表达式过长或嵌套过深', en: 'Expression too long or too deeply nested' },
  'LAB-E060': { status: 422, kind: 'user', zh: '未知的算子或版本', en: 'Unknown operator or version' },
  'LAB-E061': { status: 422, kind: 'user', zh: '连接错误（端口缺失、悬空或类型不符）', en: 'Bad connection (missing, dangling or mistyped port)' },
  'LAB-E062': { status: 422, kind: 'user', zh: '未知的数据集', en: 'Unknown dataset' },
  'LAB-E063': { status: 422, kind: 'user', zh: '标识信息不能作为分组或输出', en: 'Identifiers cannot be grouped on or output' },
  'LAB-E064': { status: 422, kind: 'user', zh: '名称重复', en: 'Duplicate name' },
  'LAB-E065': { status: 422, kind: 'user', zh: '分组取值过多', en: 'Too many group levels' },
  'LAB-E066': { status: 422, kind: 'user', zh: '流程图有环', en: 'The pipeline has a cycle' },
  'LAB-E067': { status: 422, kind: 'user', zh: '跨部门关联需要加密协议（尚未支持）', en: 'Joining across departments needs an encrypted protocol (not available yet)' },
  'LAB-E068': { status: 422, kind: 'user', zh: '流程缺少输出节点', en: 'The pipeline has no output node' },
  'LAB-E070': { status: 422, kind: 'user', zh: '运行超时', en: 'Time limit exceeded' },
  'LAB-E071': { status: 409, kind: 'user', zh: '任务尚无可发布的结果', en: 'The job has no released result (yet)' },
  'LAB-E072': { status: 422, kind: 'user', zh: '该表无法与此前的发布保持一致', en: 'The table cannot be released consistently with earlier releases' },
  'LAB-E073': { status: 409, kind: 'user', zh: '阶段已取消', en: 'The stage was cancelled' },
  'LAB-E080': { status: 422, kind: 'user', zh: '未知的标签', en: 'Unknown tag' },
  'LAB-E081': { status: 422, kind: 'user', zh: '标签不适用于输入的数据集', en: 'The tag does not apply to the input dataset' },
  'LAB-E082': { status: 422, kind: 'user', zh: '标签规则无法用于该输入', en: 'The tag rule does not fit the input' },
  'LAB-E083': { status: 500, kind: 'unexpected', zh: '标签库定义错误', en: 'The tag library is invalid' },
  'LAB-E084': { status: 422, kind: 'user', zh: '输入无法合并', en: 'The inputs cannot be appended' },
  'LAB-E085': { status: 422, kind: 'user', zh: '关联键类型不一致', en: 'Join keys of incompatible types' },
  'LAB-E086': { status: 422, kind: 'user', zh: '不支持的流程文档版本', en: 'Unsupported pipeline document version' },
  'LAB-E090': { status: 500, kind: 'operational', zh: '审计日志校验失败：记录被改动、删除或重排', en: 'Audit trail verification failed: entries were changed, deleted or reordered' },
  'LAB-E091': { status: 500, kind: 'unexpected', zh: '审计记录格式错误', en: 'Malformed audit entry' },
  'LAB-E092': { status: 500, kind: 'operational', zh: '审计签名密钥不可用', en: 'The audit signing key is unusable' },
  'LAB-E093': { status: 503, kind: 'operational', zh: '审计日志无法写入，操作未执行', en: 'The audit trail could not be written; the action was not carried out' },
  'LAB-E100': { status: 500, kind: 'unexpected', zh: 'PSI 协议消息格式错误', en: 'Malformed PSI protocol message' },
  'LAB-E101': { status: 500, kind: 'unexpected', zh: 'PSI 消息属于另一会话或另一个桶', en: 'The PSI message belongs to another session or bucket' },
  'LAB-E102': { status: 500, kind: 'unexpected', zh: 'PSI 消息中有无效的曲线点', en: 'The PSI message holds an invalid curve point' },
  'LAB-E103': { status: 500, kind: 'unexpected', zh: 'PSI 消息顺序错误（重复、过早或来自错误的一方）', en: 'PSI message out of sequence (repeated, early, or from the wrong side)' },
  'LAB-E104': { status: 500, kind: 'unexpected', zh: 'PSI 双方的协议参数不一致（模式或哈希套件）', en: 'The PSI parties use different parameters (mode or hash suite)' },
  'LAB-E105': { status: 500, kind: 'unexpected', zh: 'PSI 会话已关闭，密钥已销毁', en: 'The PSI session is closed; its key was wiped' },
  'LAB-E106': { status: 422, kind: 'user', zh: 'PSI 参数无效', en: 'Invalid PSI parameters' },
  'LAB-E107': { status: 503, kind: 'operational', zh: 'PSI 计算线程失败', en: 'A PSI compute thread failed' },
  'LAB-E108': { status: 422, kind: 'user', zh: '分桶过细：仅计数模式下每桶的交集大小会泄露', en: 'Buckets too small: in cardinality mode each bucket\'s intersection size would leak' },
  'LAB-E110': { status: 500, kind: 'unexpected', zh: '同态加密库出错', en: 'The homomorphic encryption library failed' },
  'LAB-E111': { status: 422, kind: 'user', zh: '同态加密参数不可接受', en: 'The homomorphic encryption parameters are not acceptable' },
  'LAB-E112': { status: 422, kind: 'user', zh: '加密求和可能溢出明文模数（行数 × 最大值过大）', en: 'The encrypted sums could overflow the plain modulus (rows × maximum value too large)' },
  'LAB-E113': { status: 422, kind: 'user', zh: '数据行超出声明的范围（分组或数值）', en: 'A row is outside the declared range (group or value)' },
  'LAB-E114': { status: 500, kind: 'unexpected', zh: '同态协议消息格式错误', en: 'Malformed homomorphic protocol message' },
  'LAB-E115': { status: 500, kind: 'unexpected', zh: '同态协议消息顺序错误（会话不符、重复或缺失）', en: 'Homomorphic protocol message out of sequence (wrong session, duplicate or missing)' },
  'LAB-E116': { status: 500, kind: 'unexpected', zh: '同态会话已关闭，密钥已销毁', en: 'The homomorphic session is closed; its keys were wiped' },
  'LAB-E117': { status: 422, kind: 'user', zh: '数据量或分组数超出一次加密求和的能力', en: 'Too many rows or groups for one encrypted sum' },
  'LAB-E118': { status: 500, kind: 'unexpected', zh: '加密求和结果无法正确解密', en: 'The encrypted sum does not decrypt correctly' },
  'LAB-E120': { status: 422, kind: 'user', zh: '隐私参数无效（ε、δ 或 ρ 格式错误或超出范围）', en: 'Invalid privacy parameter (ε, δ or ρ malformed or out of range)' },
  'LAB-E121': { status: 422, kind: 'user', zh: '截断界或格点步长无效', en: 'Invalid clamping bounds or lattice step' },
  'LAB-E122': { status: 500, kind: 'unexpected', zh: '加噪输入格式错误', en: 'Malformed input to the noise mechanism' },
  'LAB-E123': { status: 500, kind: 'unexpected', zh: '非密码学随机源不能用于发布', en: 'A non-cryptographic randomness source cannot be used for a release' },
  'LAB-E124': { status: 422, kind: 'user', zh: '该表无法做差分隐私发布', en: 'This table cannot be released with differential privacy' },
  'LAB-E130': { status: 422, kind: 'user', zh: '策略无效', en: 'The policy is invalid' },
  'LAB-E131': { status: 409, kind: 'user', zh: '策略已被他人修改，请基于最新版本编辑', en: 'The policy changed meanwhile; edit the latest version' },
  'LAB-E132': { status: 409, kind: 'user', zh: '审批已失效（流程、参数、输入或策略已变更）', en: 'The approval is void (the pipeline, parameters, inputs or policy changed)' },
  'LAB-E133': { status: 403, kind: 'user', zh: '不能审批或审核本人提交的任务', en: 'You cannot approve or review your own job' },
  'LAB-E134': { status: 409, kind: 'user', zh: '任务当前不在此环节', en: 'The job is not at this step' },
  'LAB-E135': { status: 422, kind: 'user', zh: '请填写理由', en: 'A reason is required' },
  'LAB-E136': { status: 403, kind: 'user', zh: '隐私预算不足', en: 'Privacy budget exhausted' },
  'LAB-E137': { status: 403, kind: 'user', zh: '策略不允许此操作', en: 'Policy does not allow this' },
} as const satisfies Record<string, ErrorCodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;
